/* ls.c - list a directory (default: the working directory), with sizes. */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
        const char *dir = argc > 1 ? argv[1] : ".";
        DIR *d = opendir(dir);
        struct dirent *e;
        char path[512];

        if (!d) {
                perror(dir);
                return 1;
        }
        while ((e = readdir(d)) != NULL) {
                struct stat st;
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                if (stat(path, &st) == 0)
                        printf("%c %8lld  %s\n", S_ISDIR(st.st_mode) ? 'd' : '-',
                               (long long)st.st_size, e->d_name);
                else
                        printf("? %8s  %s\n", "", e->d_name);
        }
        closedir(d);
        return 0;
}
