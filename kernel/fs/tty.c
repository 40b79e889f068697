/*
 * tty.c - the terminal: a line discipline over the console, as a file.
 *
 * Owns the console terminal's state: its termios settings, its input
 * buffer, its window size, its session and foreground process group. The
 * machine below (console.h) hands over each received byte at a safe point
 * (never in the middle of a system call) and writes bytes out; this file
 * decides what the bytes mean, as Linux's n_tty does:
 *   input   ISTRIP, IGNCR/ICRNL/INLCR, IXON (^S/^Q), ISIG (^C ^\ ^Z),
 *           canonical line editing (ERASE, WERASE, KILL, LNEXT, REPRINT,
 *           EOF, EOL, EOL2) or raw input read by VMIN/VTIME;
 *   echo    ECHO, ECHOE, ECHOK, ECHOKE, ECHONL, ECHOCTL;
 *   output  OPOST with ONLCR, OCRNL, ONOCR, ONLRET, OLCUC, XTABS.
 * Not done: PARMRK/INPCK/IGNBRK (a UART without parity errors or breaks
 * to report), ECHOPRT, IUTF8-aware erase, FLUSHO/VDISCARD, PENDIN.
 *
 * Invariants: tail <= canon_head <= head and head - tail <= TTY_BUF (the
 * counters only grow; index = counter % TTY_BUF). In canonical mode,
 * [tail, canon_head) holds complete lines, each ending in a byte marked
 * MARK_DELIM (MARK_EOF too if it is an EOF character, which read does not
 * return); [canon_head, head) is the line being edited.
 */
#include <mercator/clock.h>
#include <mercator/console.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <machine/abi_stat.h>
#include <fs/file.h>
#include <fs/poll.h>
#include <fs/tty.h>
#include <fs/vfs.h>
#include <proc/cred.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <vm/kmalloc.h>

#define TTY_BUF         4096    /* as Linux's N_TTY_BUF_SIZE */
#define MARK_DELIM      0x01    /* ends a line (canonical mode) */
#define MARK_EOF        0x02    /* an EOF character: ends a line, not read */

/* Linux's struct termios as TCGETS/TCSETS move it (x86-64: NCCS 19). */
#define NCCS            19
struct linux_termios {
        uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
        uint8_t  c_line;
        uint8_t  c_cc[NCCS];
};
_Static_assert(sizeof(struct linux_termios) == 36, "Linux's termios layout");

struct linux_winsize {
        uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

/* c_cc indices */
enum { VINTR, VQUIT, VERASE, VKILL, VEOF, VTIME, VMIN, VSWTC, VSTART, VSTOP,
       VSUSP, VEOL, VREPRINT, VDISCARD, VWERASE, VLNEXT, VEOL2 };

/* c_iflag */
#define ISTRIP  0000040
#define INLCR   0000100
#define IGNCR   0000200
#define ICRNL   0000400
#define IUCLC   0001000
#define IXON    0002000
#define IXANY   0004000
/* c_oflag */
#define OPOST   0000001
#define OLCUC   0000002
#define ONLCR   0000004
#define OCRNL   0000010
#define ONOCR   0000020
#define ONLRET  0000040
#define TABDLY  0014000
#define XTABS   0014000
/* c_cflag: 115200 baud, 8 bits, receiver on, hang up on last close */
#define B115200 0010002
#define CS8     0000060
#define CREAD   0000200
#define HUPCL   0002000
/* c_lflag */
#define ISIG    0000001
#define ICANON  0000002
#define ECHO    0000010
#define ECHOE   0000020
#define ECHOK   0000040
#define ECHONL  0000100
#define NOFLSH  0000200
#define TOSTOP  0000400
#define ECHOCTL 0001000
#define ECHOKE  0004000
#define IEXTEN  0100000

struct tty {
        struct linux_termios t;
        struct linux_winsize ws;
        uint8_t  buf[TTY_BUF];
        uint8_t  mark[TTY_BUF];         /* MARK_* for each buffered byte */
        uint64_t tail, canon_head, head;
        unsigned column;                /* where output left the cursor */
        unsigned canon_column;          /* column the edited line began at */
        bool     lnext;                 /* the next byte is taken literally */
        bool     stopped;               /* output stopped: ^S or TCOOFF */
        int      sid;                   /* session it controls; 0: none */
        int      pgrp;                  /* foreground process group */
};

static struct tty console_tty = {
        .t = {
                .c_iflag = ICRNL | IXON,
                .c_oflag = OPOST | ONLCR,
                .c_cflag = B115200 | CS8 | CREAD | HUPCL,
                .c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL |
                           ECHOKE | IEXTEN,
                .c_cc = { [VINTR] = 0x03, [VQUIT] = 0x1c, [VERASE] = 0x7f,
                          [VKILL] = 0x15, [VEOF] = 0x04, [VTIME] = 0,
                          [VMIN] = 1, [VSTART] = 0x11, [VSTOP] = 0x13,
                          [VSUSP] = 0x1a, [VREPRINT] = 0x12,
                          [VDISCARD] = 0x0f, [VWERASE] = 0x17,
                          [VLNEXT] = 0x16 },
        },
};

static bool L(const struct tty *tty, uint32_t f) { return tty->t.c_lflag & f; }
static bool I(const struct tty *tty, uint32_t f) { return tty->t.c_iflag & f; }
static bool O(const struct tty *tty, uint32_t f) { return tty->t.c_oflag & f; }
static uint8_t CC(const struct tty *tty, int i) { return tty->t.c_cc[i]; }

/* A c_cc character is disabled by the value 0 (_POSIX_VDISABLE). */
static bool is_cc(const struct tty *tty, int i, uint8_t c)
{
        return c == CC(tty, i) && c != 0;
}

static bool is_ctrl(uint8_t c) { return c < 0x20 || c == 0x7f; }

/* ---- output ------------------------------------------------------------ */

/* Bytes on their way to the console, after output processing. */
struct out {
        struct tty *tty;
        size_t      n;
        char        buf[256];
};

static void out_flush(struct out *o)
{
        console_write_raw(o->buf, o->n);
        o->n = 0;
}

static void out_raw(struct out *o, char c)
{
        if (o->n == sizeof o->buf)
                out_flush(o);
        o->buf[o->n++] = c;
}

/* One byte through OPOST, keeping track of the cursor's column. */
static void out_byte(struct out *o, uint8_t c)
{
        struct tty *tty = o->tty;

        if (!O(tty, OPOST)) {
                out_raw(o, (char)c);
                return;
        }
        switch (c) {
        case '\n':
                if (O(tty, ONLRET) || O(tty, ONLCR))
                        tty->column = 0;
                if (O(tty, ONLCR))
                        out_raw(o, '\r');
                out_raw(o, '\n');
                return;
        case '\r':
                if (O(tty, ONOCR) && tty->column == 0)
                        return;
                if (O(tty, OCRNL)) {
                        if (O(tty, ONLRET))
                                tty->column = 0;
                        out_raw(o, '\n');
                        return;
                }
                tty->column = 0;
                out_raw(o, '\r');
                return;
        case '\t': {
                unsigned spaces = 8 - (tty->column & 7);
                tty->column += spaces;
                if ((tty->t.c_oflag & TABDLY) == XTABS) {
                        while (spaces--)
                                out_raw(o, ' ');
                        return;
                }
                out_raw(o, '\t');
                return;
        }
        case '\b':
                if (tty->column > 0)
                        tty->column--;
                out_raw(o, '\b');
                return;
        }
        if (!is_ctrl(c))
                tty->column++;
        if (O(tty, OLCUC) && c >= 'a' && c <= 'z')
                c = (uint8_t)(c - 'a' + 'A');
        out_raw(o, (char)c);
}

static void out_str(struct out *o, const char *s)
{
        while (*s)
                out_byte(o, (uint8_t)*s++);
}

/* Echo c as typed: a control character as ^X under ECHOCTL. */
static void echo_char(struct out *o, uint8_t c)
{
        if (L(o->tty, ECHOCTL) && is_ctrl(c) && c != '\t' && c != '\n') {
                out_byte(o, '^');
                out_byte(o, c ^ 0x40);
        } else {
                out_byte(o, c);
        }
}

/* ---- the input buffer -------------------------------------------------- */

static size_t in_count(const struct tty *tty) { return tty->head - tty->tail; }
static size_t idx(uint64_t counter) { return counter % TTY_BUF; }

static void in_put(struct tty *tty, uint8_t c, uint8_t mark)
{
        tty->buf[idx(tty->head)] = c;
        tty->mark[idx(tty->head)] = mark;
        tty->head++;
}

/* What a reader may take now: complete lines, or everything when raw. */
static size_t in_readable(const struct tty *tty)
{
        return L(tty, ICANON) ? tty->canon_head - tty->tail : in_count(tty);
}

/* Input changed: wake readers and pollers. */
static void in_changed(struct tty *tty)
{
        sched_wakeup(tty);
        poll_wake();
}

static void in_flush(struct tty *tty)
{
        tty->tail = tty->canon_head = tty->head = 0;
        tty->lnext = false;
        in_changed(tty);
}

/* A completed line (or, when raw, any input) becomes readable. */
static void in_commit(struct tty *tty)
{
        tty->canon_head = tty->head;
        in_changed(tty);
}

/* ---- canonical editing ------------------------------------------------- */

/* The column the edited line's echo reaches just before byte `upto`. */
static unsigned line_column(const struct tty *tty, uint64_t upto)
{
        unsigned col = tty->canon_column;

        for (uint64_t i = tty->canon_head; i < upto; i++) {
                uint8_t c = tty->buf[idx(i)];
                if (c == '\t')
                        col = (col | 7) + 1;
                else if (is_ctrl(c))
                        col += L(tty, ECHOCTL) ? 2 : 0;
                else
                        col++;
        }
        return col;
}

/* Take the last byte of the edited line back off the screen. */
static void echo_rubout(struct out *o, uint8_t c)
{
        struct tty *tty = o->tty;

        if (c == '\t') {
                unsigned col = line_column(tty, tty->head);
                while (tty->column > col)
                        out_byte(o, '\b');
                return;
        }
        if (is_ctrl(c) && !L(tty, ECHOCTL))
                return;                         /* it was never shown */
        for (int w = is_ctrl(c) ? 2 : 1; w > 0; w--)
                out_str(o, "\b \b");
}

enum erase_kind { ERASE_CHAR, ERASE_WORD, ERASE_LINE };

static void tty_erase(struct out *o, enum erase_kind kind)
{
        struct tty *tty = o->tty;
        bool word_seen = false;

        if (tty->head == tty->canon_head)
                return;
        if (kind == ERASE_LINE &&
            (!L(tty, ECHO) || !L(tty, ECHOK) || !L(tty, ECHOKE) || !L(tty, ECHOE))) {
                tty->head = tty->canon_head;
                if (L(tty, ECHO)) {
                        echo_char(o, CC(tty, VKILL));
                        if (L(tty, ECHOK))
                                out_byte(o, '\n');
                }
                tty->canon_column = tty->column;
                return;
        }
        while (tty->head != tty->canon_head) {
                uint8_t c = tty->buf[idx(tty->head - 1)];
                if (kind == ERASE_WORD) {
                        bool in_word = (c >= '0' && c <= '9') || c == '_' ||
                                       ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
                        if (in_word)
                                word_seen = true;
                        else if (word_seen)
                                break;
                }
                tty->head--;
                if (L(tty, ECHO)) {
                        if (kind == ERASE_CHAR && !L(tty, ECHOE))
                                echo_char(o, CC(tty, VERASE));
                        else
                                echo_rubout(o, c);
                }
                if (kind == ERASE_CHAR)
                        break;
        }
}

/* ^R: the edited line again, on a line of its own. */
static void tty_reprint(struct out *o)
{
        struct tty *tty = o->tty;

        echo_char(o, CC(tty, VREPRINT));
        out_byte(o, '\n');
        tty->canon_column = tty->column;
        for (uint64_t i = tty->canon_head; i < tty->head; i++)
                echo_char(o, tty->buf[idx(i)]);
}

/* Store c in the edited line; a delimiter completes it. */
static void canon_store(struct out *o, uint8_t c, uint8_t mark)
{
        struct tty *tty = o->tty;

        /* A full line keeps one place for its end: other bytes are lost. */
        if (in_count(tty) >= TTY_BUF - (mark ? 0 : 1))
                return;
        if (L(tty, ECHO) || (c == '\n' && L(tty, ECHONL))) {
                if (tty->head == tty->canon_head)
                        tty->canon_column = tty->column;
                if (mark & MARK_EOF)
                        ;                       /* EOF is not echoed */
                else if (c == '\n')
                        out_byte(o, '\n');
                else if (L(tty, ECHO))
                        echo_char(o, c);
        }
        in_put(tty, c, mark);
        if (mark) {
                in_commit(tty);
                tty->canon_column = tty->column;
        }
}

/* ---- receiving a byte -------------------------------------------------- */

static void tty_signal(struct tty *tty, struct out *o, int sig, uint8_t c);

/* The canonical-mode special characters; false if c is an ordinary one. */
static bool canon_special(struct out *o, uint8_t c)
{
        struct tty *tty = o->tty;
        bool ext = L(tty, IEXTEN);

        if (is_cc(tty, VERASE, c))
                tty_erase(o, ERASE_CHAR);
        else if (is_cc(tty, VKILL, c))
                tty_erase(o, ERASE_LINE);
        else if (ext && is_cc(tty, VWERASE, c))
                tty_erase(o, ERASE_WORD);
        else if (ext && is_cc(tty, VREPRINT, c) && L(tty, ECHO))
                tty_reprint(o);
        else if (is_cc(tty, VEOF, c))
                canon_store(o, c, MARK_DELIM | MARK_EOF);
        else if (c == '\n' || is_cc(tty, VEOL, c) || (ext && is_cc(tty, VEOL2, c)))
                canon_store(o, c, MARK_DELIM);
        else
                return false;
        return true;
}

/* Flow control (IXON): true if c was START or STOP and is used up. */
static bool flow_control(struct tty *tty, uint8_t c)
{
        if (!I(tty, IXON))
                return false;
        if (is_cc(tty, VSTOP, c)) {
                tty->stopped = true;
                return true;
        }
        if (tty->stopped && (is_cc(tty, VSTART, c) || I(tty, IXANY))) {
                tty->stopped = false;
                sched_wakeup(&tty->stopped);
                poll_wake();
                return is_cc(tty, VSTART, c);
        }
        return is_cc(tty, VSTART, c);
}

static void tty_receive(struct tty *tty, uint8_t c)
{
        struct out o = { .tty = tty };

        if (I(tty, ISTRIP))
                c &= 0x7f;
        if (tty->lnext) {                       /* after ^V: literal */
                tty->lnext = false;
                if (I(tty, IUCLC) && c >= 'A' && c <= 'Z')
                        c = (uint8_t)(c - 'A' + 'a');
                goto store;
        }
        if (c == '\r') {
                if (I(tty, IGNCR))
                        return;
                if (I(tty, ICRNL))
                        c = '\n';
        } else if (c == '\n' && I(tty, INLCR)) {
                c = '\r';
        }
        if (I(tty, IUCLC) && c >= 'A' && c <= 'Z')
                c = (uint8_t)(c - 'A' + 'a');
        if (flow_control(tty, c))
                goto done;
        if (L(tty, ISIG)) {
                int sig = is_cc(tty, VINTR, c) ? SIGINT :
                          is_cc(tty, VQUIT, c) ? SIGQUIT :
                          is_cc(tty, VSUSP, c) ? SIGTSTP : 0;
                if (sig) {
                        tty_signal(tty, &o, sig, c);
                        goto done;
                }
        }
        if (L(tty, IEXTEN) && is_cc(tty, VLNEXT, c)) {
                /* Shown as "^" with the cursor on it, until the literal
                 * byte's echo covers it. */
                tty->lnext = true;
                if (L(tty, ECHO) && L(tty, ECHOCTL)) {
                        if (tty->head == tty->canon_head)
                                tty->canon_column = tty->column;
                        out_raw(&o, '^');
                        out_raw(&o, '\b');
                }
                goto done;
        }
        if (L(tty, ICANON) && canon_special(&o, c))
                goto done;
store:
        if (L(tty, ICANON)) {
                canon_store(&o, c, 0);
        } else {
                if (L(tty, ECHO))
                        c == '\n' ? out_byte(&o, '\n') : echo_char(&o, c);
                else if (c == '\n' && L(tty, ECHONL))
                        out_byte(&o, '\n');
                in_put(tty, c, 0);
                in_commit(tty);
        }
done:
        out_flush(&o);
}

bool console_input_room(void)
{
        return in_count(&console_tty) < TTY_BUF;
}

void console_receive(uint8_t c)
{
        tty_receive(&console_tty, c);
}

/* ---- job control ------------------------------------------------------- */

/* A signal character: flush (unless NOFLSH), echo it, signal the
 * foreground process group. */
static void tty_signal(struct tty *tty, struct out *o, int sig, uint8_t c)
{
        if (!L(tty, NOFLSH))
                in_flush(tty);
        if (tty->stopped) {
                tty->stopped = false;
                sched_wakeup(&tty->stopped);
        }
        if (L(tty, ECHO))
                echo_char(o, c);
        if (tty->pgrp > 0)
                signal_send_group(tty->pgrp, sig, NULL);
}


/* Whether the terminal is p's controlling terminal. */
static bool tty_is_ctty(const struct tty *tty, const struct proc *p)
{
        return tty->sid && tty->sid == p->sid && !p->tty_detached;
}

/*
 * Whether process group pgrp is orphaned: no member has a parent in
 * another group of the same session (a parent that is init does not
 * count, as on Linux). Job control stops nobody in an orphaned group:
 * nothing would continue it.
 */
static bool pgrp_orphaned(int pgrp)
{
        for (int i = 0; i < proc_slots; i++) {
                const struct proc *p = proc_table[i], *q = p->parent;
                if (p->state == PROC_FREE || p->state == PROC_ZOMBIE ||
                    p->pgid != pgrp || !q || q->pid == 1)
                        continue;
                if (q->pgid != pgrp && q->sid == p->sid)
                        return false;
        }
        return true;
}

static bool sig_ignored_or_blocked(const struct proc *p, int sig)
{
        return (p->sig.blocked & sigmask_of(sig)) ||
               p->sig.action[sig - 1].handler == SIG_IGN;
}

/*
 * May the current process use its controlling terminal this way? A
 * background process group that reads (sig SIGTTIN), writes with TOSTOP
 * or changes settings (SIGTTOU) is sent sig and the call restarts once
 * it is continued; Linux's exceptions are kept: an ignored or blocked
 * SIGTTOU lets the call through, an ignored or blocked SIGTTIN and an
 * orphaned group get -EIO.
 */
static long tty_job_check(struct tty *tty, int sig)
{
        struct proc *p = current;

        if (!tty_is_ctty(tty, p) || !tty->pgrp || p->pgid == tty->pgrp)
                return 0;
        if (sig_ignored_or_blocked(p, sig))
                return sig == SIGTTIN ? -EIO : 0;
        if (pgrp_orphaned(p->pgid))
                return -EIO;
        signal_send_group(p->pgid, sig, NULL);
        return -ERESTARTSYS;
}

/* The session's leader leaves its terminal (TIOCNOTTY, or exit): the
 * foreground group gets SIGHUP and SIGCONT, and the session has no
 * controlling terminal any more. */
static void tty_disassociate(struct tty *tty, bool on_exit)
{
        if (tty->pgrp > 0) {
                signal_send_group(tty->pgrp, SIGHUP, NULL);
                if (!on_exit)
                        signal_send_group(tty->pgrp, SIGCONT, NULL);
        }
        tty->sid = tty->pgrp = 0;
}

void tty_session_leader_exit(struct proc *p)
{
        if (p->pid == p->sid && console_tty.sid == p->sid)
                tty_disassociate(&console_tty, true);
}

void tty_attach_session(struct proc *p)
{
        console_tty.sid = p->sid;
        console_tty.pgrp = p->pgid;
        p->tty_detached = false;
}

/* ---- reading ----------------------------------------------------------- */

/* Move up to len buffered bytes to the user; the count, or -EFAULT. In
 * canonical mode, stop after a line's delimiter. */
static long in_copy_out(struct tty *tty, uint64_t ubuf, size_t len)
{
        uint8_t chunk[128];
        size_t done = 0;
        bool canon = L(tty, ICANON);

        while (done < len && in_readable(tty)) {
                size_t n = 0;
                bool line_end = false;
                while (n < sizeof chunk && done + n < len && in_readable(tty)) {
                        uint8_t m = tty->mark[idx(tty->tail)];
                        uint8_t c = tty->buf[idx(tty->tail++)];
                        if (canon && (m & MARK_EOF)) {
                                line_end = true;
                                break;
                        }
                        chunk[n++] = c;
                        if (canon && (m & MARK_DELIM)) {
                                line_end = true;
                                break;
                        }
                }
                /* A line ending in EOF right after what fit: take the EOF
                 * along, as Linux does (it would read as an empty line). */
                if (canon && !line_end && in_readable(tty) &&
                    (tty->mark[idx(tty->tail)] & MARK_EOF) && done + n == len) {
                        tty->tail++;
                        line_end = true;
                }
                if (copy_to_user(ubuf + done, chunk, n))
                        return done ? (long)done : -EFAULT;
                done += n;
                if (line_end)
                        break;
        }
        if (in_count(tty) == 0)
                tty->tail = tty->canon_head = tty->head = 0;
        return (long)done;
}

#define O_NONBLOCK      04000

/* Sleep until input changes or deadline_ns (0: none). -ERESTARTSYS if
 * a signal came, -ETIMEDOUT past the deadline, else 0. */
static long tty_wait(struct tty *tty, uint64_t deadline_ns)
{
        if (deadline_ns && clock_monotonic_ns() >= deadline_ns)
                return -ETIMEDOUT;
        if (sched_sleep_on_until_intr(tty, deadline_ns))
                return -ERESTARTSYS;
        return 0;
}

static long tty_read_canon(struct tty *tty, struct file *f, uint64_t ubuf,
                           size_t len)
{
        long err;

        while (!in_readable(tty)) {
                if ((err = tty_job_check(tty, SIGTTIN)) < 0)
                        return err;
                if (f->flags & O_NONBLOCK)
                        return -EAGAIN;
                if ((err = tty_wait(tty, 0)) < 0)
                        return err;
        }
        return in_copy_out(tty, ubuf, len);
}

/*
 * Non-canonical reads follow VMIN and VTIME (tenths of a second):
 * MIN > 0, TIME = 0: wait for MIN bytes (or len);
 * MIN > 0, TIME > 0: wait for the first byte, then until MIN bytes or
 *                    TIME passes without a new one;
 * MIN = 0, TIME > 0: wait at most TIME for one byte (0 if none came);
 * MIN = 0, TIME = 0: take what is there, possibly nothing.
 */
static long tty_read_raw(struct tty *tty, struct file *f, uint64_t ubuf,
                         size_t len)
{
        size_t min = CC(tty, VMIN), done = 0;
        uint64_t tenth = CC(tty, VTIME) * 100000000ULL;
        uint64_t deadline = !min && tenth ? clock_monotonic_ns() + tenth : 0;
        long n;

        if (!min)
                min = 1;
        for (;;) {
                if ((n = in_copy_out(tty, ubuf + done, len - done)) < 0)
                        return done ? (long)done : n;
                done += (size_t)n;
                if (done >= min || done == len)
                        break;
                if (!CC(tty, VMIN) && !tenth)
                        break;                  /* MIN = TIME = 0 */
                if (n && CC(tty, VMIN) && tenth)
                        deadline = clock_monotonic_ns() + tenth;
                if (f->flags & O_NONBLOCK)
                        return done ? (long)done : -EAGAIN;
                n = tty_wait(tty, deadline);
                if (n == -ETIMEDOUT)
                        break;
                if (n < 0)
                        return done ? (long)done : n;
        }
        return (long)done;
}

static long tty_read(struct file *f, uint64_t ubuf, size_t len)
{
        struct tty *tty = (struct tty *)f->node;
        long err;

        if ((err = tty_job_check(tty, SIGTTIN)) < 0)
                return err;
        if (len == 0)
                return 0;
        return L(tty, ICANON) ? tty_read_canon(tty, f, ubuf, len)
                              : tty_read_raw(tty, f, ubuf, len);
}

/* ---- writing ----------------------------------------------------------- */

/* Write from user memory (kbuf NULL) or from kernel memory. */
static long tty_write_from(struct file *f, uint64_t ubuf, const uint8_t *kbuf,
                           size_t len)
{
        struct tty *tty = (struct tty *)f->node;
        struct out o = { .tty = tty };
        uint8_t chunk[256];
        size_t done = 0;
        long err;

        if (L(tty, TOSTOP) && (err = tty_job_check(tty, SIGTTOU)) < 0)
                return err;
        while (done < len) {
                while (tty->stopped) {
                        if (sched_sleep_on_intr(&tty->stopped))
                                return done ? (long)done : -ERESTARTSYS;
                }
                size_t n = MIN(len - done, sizeof chunk);
                if (kbuf)
                        memcpy(chunk, kbuf + done, n);
                else if (copy_from_user(chunk, ubuf + done, n))
                        return done ? (long)done : -EFAULT;
                for (size_t i = 0; i < n; i++)
                        out_byte(&o, chunk[i]);
                out_flush(&o);
                done += n;
        }
        return (long)done;
}

static long tty_write(struct file *f, uint64_t ubuf, size_t len)
{
        return tty_write_from(f, ubuf, NULL, len);
}

long tty_write_kernel(struct file *f, const void *buf, size_t len)
{
        return tty_write_from(f, 0, buf, len);
}

/* ---- poll, stat -------------------------------------------------------- */

static unsigned tty_poll(struct file *f)
{
        struct tty *tty = (struct tty *)f->node;
        unsigned mask = 0;
        size_t avail = in_readable(tty);

        /* Raw with VMIN > 0 and no VTIME: readable once VMIN bytes wait. */
        if (!L(tty, ICANON) && CC(tty, VMIN) && !CC(tty, VTIME))
                avail = avail >= CC(tty, VMIN) ? avail : 0;
        if (avail)
                mask |= POLLIN | POLLRDNORM;
        if (!tty->stopped)
                mask |= POLLOUT | POLLWRNORM;
        return mask;
}

#define S_IFCHR 0020000

static void tty_stat(struct file *f, void *st)
{
        struct linux_stat *s = st;      /* the architecture's layout */

        if (f->vnode) {                 /* opened by name: that node's */
                vnode_stat(f->vnode, st);
                return;
        }
        memset(s, 0, sizeof *s);
        s->st_dev = 5;
        s->st_ino = 1;
        s->st_nlink = 1;
        s->st_mode = S_IFCHR | 0620;
        s->st_rdev = (5 << 8) | 1;              /* /dev/console */
        s->st_blksize = 1024;
}

/* ---- ioctl ------------------------------------------------------------- */

#define TCGETS          0x5401
#define TCSETS          0x5402
#define TCSETSW         0x5403
#define TCSETSF         0x5404
#define TCSBRK          0x5409
#define TCXONC          0x540a
#define TCFLSH          0x540b
#define TIOCSCTTY       0x540e
#define TIOCGPGRP       0x540f
#define TIOCSPGRP       0x5410
#define TIOCOUTQ        0x5411
#define TIOCGWINSZ      0x5413
#define TIOCSWINSZ      0x5414
#define FIONREAD        0x541b
#define TIOCNOTTY       0x5422
#define TIOCSETD        0x5423
#define TIOCGETD        0x5424
#define TCSBRKP         0x5425
#define TIOCGSID        0x5429
#define N_TTY           0
#define TCOOFF          0
#define TCOON           1
#define TCIOFF          2
#define TCION           3
#define TCIFLUSH        0
#define TCOFLUSH        1
#define TCIOFLUSH       2

static long tty_set_termios(struct tty *tty, unsigned cmd, uint64_t arg)
{
        struct linux_termios t;
        bool was_canon = L(tty, ICANON);

        if (copy_from_user(&t, arg, sizeof t))
                return -EFAULT;
        /* Output is written synchronously: TCSETSW has nothing to wait for. */
        if (cmd == TCSETSF)
                in_flush(tty);
        tty->t = t;
        tty->t.c_line = 0;                      /* only N_TTY exists */
        if (was_canon != L(tty, ICANON)) {
                /* Line boundaries are forgotten; going canonical, what is
                 * buffered becomes one complete line (as Linux does). */
                for (uint64_t i = tty->tail; i < tty->head; i++)
                        tty->mark[idx(i)] = 0;
                tty->canon_head = tty->head;
                if (L(tty, ICANON) && in_count(tty))
                        tty->mark[idx(tty->head - 1)] = MARK_DELIM;
                tty->lnext = false;
        }
        in_changed(tty);
        if (tty->stopped && !I(tty, IXON)) {
                tty->stopped = false;
                sched_wakeup(&tty->stopped);
        }
        return 0;
}

/* FIONREAD: readable bytes; in canonical mode complete lines only,
 * without their EOF characters. */
static int tty_inq(const struct tty *tty)
{
        if (!L(tty, ICANON))
                return (int)in_count(tty);
        int n = 0;
        for (uint64_t i = tty->tail; i < tty->canon_head; i++)
                n += !(tty->mark[idx(i)] & MARK_EOF);
        return n;
}

static long tty_flow(struct tty *tty, uint64_t how)
{
        struct out o = { .tty = tty };

        switch (how) {
        case TCOOFF:
                tty->stopped = true;
                return 0;
        case TCOON:
                tty->stopped = false;
                sched_wakeup(&tty->stopped);
                poll_wake();
                return 0;
        case TCIOFF:
        case TCION:
                /* Ask the other end to stop or start sending. */
                out_raw(&o, (char)CC(tty, how == TCIOFF ? VSTOP : VSTART));
                out_flush(&o);
                return 0;
        default:
                return -EINVAL;
        }
}

/* TCSBRK with 0 (and TCSBRKP): a break of about a quarter second; any
 * other TCSBRK only drains output, which is always drained here. */
static long tty_break(uint64_t arg, unsigned cmd)
{
        uint64_t ms = cmd == TCSBRKP && arg ? arg * 100 : 250;

        if (cmd == TCSBRK && arg)
                return 0;
        console_set_break(true);
        uint64_t end = clock_monotonic_ns() + ms * 1000000ULL;
        int err = 0;
        while (clock_monotonic_ns() < end && !err)
                err = sched_sleep_until_intr(end);
        console_set_break(false);
        return err ? -ERESTARTSYS : 0;
}

/* TIOCSPGRP: the foreground group becomes pgrp, one of the caller's
 * session (the caller's terminal only). */
static long tty_set_pgrp(struct tty *tty, uint64_t arg)
{
        long err = tty_job_check(tty, SIGTTOU);
        int pgrp;

        if (err)
                return err == -EIO ? -ENOTTY : err;
        if (copy_from_user(&pgrp, arg, sizeof pgrp))
                return -EFAULT;
        if (pgrp < 0)
                return -EINVAL;
        if (!tty_is_ctty(tty, current))
                return -ENOTTY;
        bool exists = false, same_session = false;
        for (int i = 0; i < proc_slots; i++) {
                const struct proc *p = proc_table[i];
                if (p->state == PROC_FREE || p->pgid != pgrp)
                        continue;
                exists = true;
                same_session |= p->sid == current->sid;
        }
        if (!exists)
                return -ESRCH;
        if (!same_session)
                return -EPERM;
        tty->pgrp = pgrp;
        return 0;
}

/* TIOCSCTTY: a session leader without a terminal takes this one; one that
 * another session has only with arg 1 and CAP_SYS_ADMIN (stealing it). */
static long tty_set_ctty(struct tty *tty, uint64_t arg)
{
        struct proc *p = current;
        bool admin = cred_capable(&p->cred, CAP_SYS_ADMIN);

        if (p->pid == p->sid && tty_is_ctty(tty, p))
                return 0;
        if (p->pid != p->sid || (tty->sid == p->sid && !p->tty_detached))
                return -EPERM;
        if (tty->sid && tty->sid != p->sid && !((int)arg == 1 && admin))
                return -EPERM;
        tty->sid = p->sid;
        tty->pgrp = p->pgid;
        p->tty_detached = false;
        return 0;
}

/* TIOCNOTTY: the caller gives up its controlling terminal; its session
 * leader giving it up takes it from the whole session. */
static long tty_drop_ctty(struct tty *tty)
{
        struct proc *p = current;

        if (!tty_is_ctty(tty, p))
                return -ENOTTY;
        if (p->pid == p->sid)
                tty_disassociate(tty, false);
        else
                p->tty_detached = true;
        return 0;
}

static long tty_set_winsize(struct tty *tty, uint64_t arg)
{
        struct linux_winsize ws;

        if (copy_from_user(&ws, arg, sizeof ws))
                return -EFAULT;
        if (memcmp(&ws, &tty->ws, sizeof ws) == 0)
                return 0;
        tty->ws = ws;
        if (tty->pgrp > 0)
                signal_send_group(tty->pgrp, SIGWINCH, NULL);
        return 0;
}

/* Requests that change the terminal: a background group asking is
 * stopped first (SIGTTOU), as Linux does. */
static bool changes_settings(unsigned cmd)
{
        return cmd == TCSETS || cmd == TCSETSW || cmd == TCSETSF ||
               cmd == TCFLSH || cmd == TCXONC || cmd == TCSBRK ||
               cmd == TCSBRKP;
}

static long tty_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
        struct tty *tty = (struct tty *)f->node;
        long err;
        int v;

        if (changes_settings(cmd) && (err = tty_job_check(tty, SIGTTOU)) < 0)
                return err;
        switch (cmd) {
        case TCGETS:
                return copy_to_user(arg, &tty->t, sizeof tty->t);
        case TCSETS:
        case TCSETSW:
        case TCSETSF:
                return tty_set_termios(tty, cmd, arg);
        case TIOCGWINSZ:
                return copy_to_user(arg, &tty->ws, sizeof tty->ws);
        case TIOCSWINSZ:
                return tty_set_winsize(tty, arg);
        case TIOCGPGRP:
                if (!tty_is_ctty(tty, current))
                        return -ENOTTY;
                return copy_to_user(arg, &tty->pgrp, sizeof tty->pgrp);
        case TIOCSPGRP:
                return tty_set_pgrp(tty, arg);
        case TIOCGSID:
                if (!tty_is_ctty(tty, current))
                        return -ENOTTY;
                return copy_to_user(arg, &tty->sid, sizeof tty->sid);
        case TIOCSCTTY:
                return tty_set_ctty(tty, arg);
        case TIOCNOTTY:
                return tty_drop_ctty(tty);
        case TIOCGETD:
                v = N_TTY;
                return copy_to_user(arg, &v, sizeof v);
        case TIOCSETD:
                if (copy_from_user(&v, arg, sizeof v))
                        return -EFAULT;
                return v == N_TTY ? 0 : -EINVAL;
        case TIOCOUTQ:
                v = 0;                          /* output is never queued */
                return copy_to_user(arg, &v, sizeof v);
        case FIONREAD:
                v = tty_inq(tty);
                return copy_to_user(arg, &v, sizeof v);
        case TCFLSH:
                if (arg > TCIOFLUSH)
                        return -EINVAL;
                if (arg != TCOFLUSH)            /* output is never queued */
                        in_flush(tty);
                return 0;
        case TCXONC:
                return tty_flow(tty, arg);
        case TCSBRK:
        case TCSBRKP:
                return tty_break(arg, cmd);
        default:
                return -ENOTTY;
        }
}

static const struct file_ops tty_ops = {
        .read = tty_read,
        .write = tty_write,
        .stat = tty_stat,
        .ioctl = tty_ioctl,
        .poll = tty_poll,
};

/* ---- opening ----------------------------------------------------------- */

struct file *tty_open(unsigned flags)
{
        struct file *f = kzalloc(sizeof *f);

        if (f) {
                f->ops = &tty_ops;
                f->refs = 1;
                f->flags = flags;
                f->node = &console_tty;
        }
        return f;
}

long tty_open_controlling(unsigned flags, struct file **out)
{
        if (!tty_is_ctty(&console_tty, current))
                return -ENXIO;
        *out = tty_open(flags);
        return *out ? 0 : -ENOMEM;
}

bool file_is_tty(const struct file *f)
{
        return f->ops == &tty_ops;
}
