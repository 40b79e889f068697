/*
 * swappiness.c - /proc/sys/vm/swappiness (issue 16; vm_reclaim.h): a
 * number from 0 to 200 (Linux 5.8+), 60 at boot; root may write any
 * value in that range and reads it back; 201, a negative number or a
 * word is EINVAL and changes nothing. Writing changes the whole
 * machine's reclaim, so that part runs only where tools/run booted the
 * program (Mercator, and Debian's Linux in QEMU, which test.py runs it on
 * first); on the shared host only the reading is checked.
 */
#include "utest.h"

#define KNOB    "/proc/sys/vm/swappiness"

static long long knob(void)
{
        char buf[32];

        return read_text(KNOB, buf, sizeof buf) > 0 ? strtoll(buf, NULL, 10) : -1;
}

int main(void)
{
        utest_start("swappiness");
        long long v = knob();
        CHECK("readable_in_range", v >= 0 && v <= 200);
        if (access("/.mercator-args", F_OK) != 0 || geteuid() != 0) {
                printf("swappiness: not booted by tools/run: writes skipped\n");
                return utest_done();
        }
        CHECK("default_60", v == 60);
        CHECK("write_0", write_text(KNOB, "0") == 0 && knob() == 0);
        CHECK("write_200", write_text(KNOB, "200\n") == 0 && knob() == 200);
        CHECK("write_100", write_text(KNOB, "100") == 0 && knob() == 100);
        CHECK("over_200_einval", write_text(KNOB, "201") == EINVAL);
        CHECK("negative_einval", write_text(KNOB, "-1") == EINVAL);
        CHECK("word_einval", write_text(KNOB, "lots") == EINVAL);
        CHECK("unchanged_after_errors", knob() == 100);
        CHECK("restored", write_text(KNOB, "60") == 0 && knob() == 60);
        return utest_done();
}
