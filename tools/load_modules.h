/*
 * load_modules.h - for a first process on Debian's Linux (tools/referee_init.c,
 * user/bench/vmbench.c): load every kernel module in /modules that will
 * load. Debian builds the virtio disk (virtio, virtio_pci, virtio_blk) as
 * modules, so the archive carries them there (tools/linux-kernel.sh keeps
 * them) and they go in with finit_module, in passes until no more loads:
 * one whose dependencies are not in yet fails and is tried again.
 * Mercator has its drivers built in: ENOSYS, or no /modules.
 * => how many modules were loaded.
 */
#ifndef MERCATOR_TOOLS_LOAD_MODULES_H
#define MERCATOR_TOOLS_LOAD_MODULES_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MODULES_DIR     "/modules"

static int load_modules(void)
{
        char names[16][64];
        int n = 0, loaded = 0, done[16] = { 0 };
        DIR *d = opendir(MODULES_DIR);
        struct dirent *e;

        if (!d)
                return 0;
        while ((e = readdir(d)) && n < 16)
                if (strstr(e->d_name, ".ko"))
                        snprintf(names[n++], sizeof names[0], "%.60s", e->d_name);
        closedir(d);
        for (int pass = 0, progress = 1; progress && pass < 16; pass++) {
                progress = 0;
                for (int i = 0; i < n; i++) {
                        char path[sizeof MODULES_DIR + sizeof names[0] + 1];
                        if (done[i])
                                continue;
                        snprintf(path, sizeof path, MODULES_DIR "/%.60s", names[i]);
                        int fd = open(path, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        long rc = syscall(SYS_finit_module, fd, "", 0);
                        int err = errno;
                        close(fd);
                        if (rc != 0 && err == ENOSYS)
                                return loaded;
                        if (rc == 0 || err == EEXIST) {
                                done[i] = 1;
                                loaded++;
                                progress = 1;
                        }
                }
        }
        return loaded;
}

#endif
