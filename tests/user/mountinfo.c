/*
 * mountinfo.c - /proc/self/mountinfo, as Debian's df reads it to find the
 * mount of a file: one line per mount, "ID PARENT MAJOR:MINOR ROOT
 * MOUNT-POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS", whose
 * device is the st_dev that stat gives the mount point's files.
 */
#include "utest.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

struct entry {
        unsigned id, parent, major, minor;
        char root[256], point[256], type[64];
};

static int find(const char *point, struct entry *out, int *lines, int *wellformed)
{
        FILE *f = fopen("/proc/self/mountinfo", "r");
        char line[1024];
        int found = 0;

        *lines = 0;
        *wellformed = 1;
        if (!f)
                return 0;
        while (fgets(line, sizeof line, f)) {
                struct entry e;
                char *dash = strstr(line, " - ");
                (*lines)++;
                if (sscanf(line, "%u %u %u:%u %255s %255s", &e.id, &e.parent,
                           &e.major, &e.minor, e.root, e.point) != 6 || !dash ||
                    sscanf(dash + 3, "%63s", e.type) != 1) {
                        *wellformed = 0;
                        continue;
                }
                if (strcmp(e.point, point) == 0) {
                        *out = e;       /* the last one: the top mount */
                        found = 1;
                }
        }
        fclose(f);
        return found;
}

int main(void)
{
        struct entry root, proc;
        struct stat st;
        int lines, ok;

        utest_start("mountinfo");
        CHECK("root_listed", find("/", &root, &lines, &ok));
        CHECK("lines_wellformed", lines > 0 && ok);
        CHECK("root_device_is_stats", stat("/", &st) == 0 &&
              major(st.st_dev) == root.major && minor(st.st_dev) == root.minor);
        CHECK("proc_listed", find("/proc", &proc, &lines, &ok) &&
              strcmp(proc.type, "proc") == 0);
        CHECK("proc_device_is_stats", stat("/proc/self", &st) == 0 &&
              major(st.st_dev) == proc.major && minor(st.st_dev) == proc.minor);
        CHECK("proc_parent_is_a_mount", proc.parent != proc.id);
        CHECK("ids_differ", proc.id != root.id);
        CHECK("root_of_mount_is_slash", strcmp(proc.root, "/") == 0);
        return utest_done();
}
