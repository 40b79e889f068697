# Debian's gcc compiles and links hello.c inside the machine (the driver,
# cc1, as, collect2 and ld through fork, exec, pipes and temporary files
# in /tmp), and the program it made runs: on Linux and on Mercator.
# with: /bin/sh gcc cat rm mktemp ls
# with-from: cd "$(mktemp -d)" && printf '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\nint main(void) { return puts("hi") < 0; }\n' > h.c && for p in cc1 collect2 as ld; do command -v "$(gcc -print-prog-name=$p)"; done && gcc -print-file-name=liblto_plugin.so && gcc -O2 -M h.c | tr -d '\\' | tr ' ' '\n' | grep '^/' && gcc -Wl,--trace -o h h.c | grep -o '^/[^ )]*' | grep -v '^/tmp/'; rm -rf "$PWD"
set -u
export LC_ALL=C PATH=/usr/bin:/bin
work=$(mktemp -d) && cd "$work" || exit 1
trap 'cd / && rm -rf "$work"' EXIT
cat > hello.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
        char buf[64];

        snprintf(buf, sizeof buf, "hello from %s, %d argument%s", "gcc",
                 argc - 1, argc == 2 ? "" : "s");
        puts(buf);
        return (int)strlen(buf) % 7;
}
C
gcc -O2 -Wall -o hello hello.c; echo "gcc status $?"
./hello one; echo "hello status $?"
gcc -c -o hello.o hello.c && gcc -o hello2 hello.o && ./hello2 a b; echo "two steps $?"
rm -f hello hello2 hello.o
ls
echo done
