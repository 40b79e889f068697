/* thread.h (host) - the host build has no threads; processes are not
 * built there. This stub lets shared headers compile. */
#ifndef MACHINE_THREAD_H
#define MACHINE_THREAD_H

#include <mercator/types.h>

struct machine_thread {
        uint64_t fs_base;
        void    *user_frame;
};

#endif
