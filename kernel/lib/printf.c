/*
 * printf.c - kvsnprintf, the formatter behind printk (see printk.h).
 *
 * Small on purpose: the conversions the kernel uses and nothing else. It
 * builds in the host tests too, where it is checked against libc.
 */
#include <mercator/printk.h>

struct out {
        char   *buf;
        size_t  size;
        size_t  len;            /* what the full output would be */
};

static void out_char(struct out *o, char c)
{
        if (o->len + 1 < o->size)
                o->buf[o->len] = c;
        o->len++;
}

struct spec {
        bool   left, zero, alt;
        int    width, prec;     /* prec < 0: none */
        int    lng;             /* 0, 1 (l, z), 2 (ll) */
};

static void out_padded(struct out *o, const char *s, size_t n,
                       const struct spec *sp, char pad)
{
        size_t w = sp->width > 0 ? (size_t)sp->width : 0;

        if (!sp->left)
                for (size_t i = n; i < w; i++)
                        out_char(o, pad);
        for (size_t i = 0; i < n; i++)
                out_char(o, s[i]);
        if (sp->left)
                for (size_t i = n; i < w; i++)
                        out_char(o, ' ');
}

/* Format v in `base` with an optional sign; zero padding goes after it. */
static void out_number(struct out *o, uint64_t v, bool neg, unsigned base,
                       bool upper, const struct spec *sp)
{
        const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        char tmp[24];
        int n = 0;

        do {
                tmp[n++] = digits[v % base];
                v /= base;
        } while (v);
        if (sp->alt && base == 16) {
                tmp[n++] = upper ? 'X' : 'x';
                tmp[n++] = '0';
        }
        if (neg)
                tmp[n++] = '-';
        if (sp->zero && !sp->left) {
                int lead = neg ? 1 : (sp->alt && base == 16 ? 2 : 0);
                for (int i = 0; i < lead; i++)
                        out_char(o, tmp[--n]);
                struct spec s2 = *sp;
                s2.width -= lead;
                char rev[24];
                for (int i = 0; i < n; i++)
                        rev[i] = tmp[n - 1 - i];
                out_padded(o, rev, (size_t)n, &s2, '0');
                return;
        }
        char rev[24];
        for (int i = 0; i < n; i++)
                rev[i] = tmp[n - 1 - i];
        out_padded(o, rev, (size_t)n, sp, ' ');
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
        *sp = (struct spec){ .prec = -1 };
        for (;; f++) {
                if (*f == '-') sp->left = true;
                else if (*f == '0') sp->zero = true;
                else if (*f == '#') sp->alt = true;
                else break;
        }
        if (*f == '*') {
                sp->width = va_arg(*ap, int);
                f++;
        }
        while (*f >= '0' && *f <= '9')
                sp->width = sp->width * 10 + (*f++ - '0');
        if (*f == '.') {
                sp->prec = 0;
                if (*++f == '*') {
                        sp->prec = va_arg(*ap, int);
                        f++;
                }
                while (*f >= '0' && *f <= '9')
                        sp->prec = sp->prec * 10 + (*f++ - '0');
        }
        if (*f == 'z')                  /* size_t: as wide as a long here */
                sp->lng = 1, f++;
        for (; *f == 'l'; f++)
                sp->lng++;
        return f;
}

/* The argument as the length modifier says: int, long (32 bits on i386,
 * 64 on x86-64) or long long. */
static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
        return sp->lng >= 2 ? va_arg(*ap, unsigned long long)
             : sp->lng == 1 ? va_arg(*ap, unsigned long)
                            : va_arg(*ap, unsigned int);
}

static void out_conversion(struct out *o, char c, struct spec *sp, va_list *ap)
{
        switch (c) {
        case 'd': case 'i': {
                long long v = sp->lng >= 2 ? va_arg(*ap, long long)
                            : sp->lng == 1 ? va_arg(*ap, long)
                                           : va_arg(*ap, int);
                out_number(o, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10,
                           false, sp);
                break;
        }
        case 'u': out_number(o, arg_unsigned(sp, ap), false, 10, false, sp); break;
        case 'o': out_number(o, arg_unsigned(sp, ap), false, 8, false, sp); break;
        case 'x': out_number(o, arg_unsigned(sp, ap), false, 16, false, sp); break;
        case 'X': out_number(o, arg_unsigned(sp, ap), false, 16, true, sp); break;
        case 'p':
                sp->alt = true;
                out_number(o, (uintptr_t)va_arg(*ap, void *), false, 16,
                           false, sp);
                break;
        case 'c': {
                char ch = (char)va_arg(*ap, int);
                out_padded(o, &ch, 1, sp, ' ');
                break;
        }
        case 's': {
                const char *s = va_arg(*ap, const char *);
                size_t n = 0;
                if (!s)
                        s = "(null)";
                while (s[n] && (sp->prec < 0 || n < (size_t)sp->prec))
                        n++;
                out_padded(o, s, n, sp, ' ');
                break;
        }
        case '%': out_char(o, '%'); break;
        default:  out_char(o, '%'); out_char(o, c); break;
        }
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
        struct out o = { .buf = buf, .size = size };
        va_list aq;

        va_copy(aq, ap);
        for (const char *f = fmt; *f; f++) {
                struct spec sp;

                if (*f != '%') {
                        out_char(&o, *f);
                        continue;
                }
                f = parse_spec(f + 1, &sp, &aq);
                if (!*f)
                        break;
                out_conversion(&o, *f, &sp, &aq);
        }
        va_end(aq);
        if (size)
                buf[o.len < size ? o.len : size - 1] = '\0';
        return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = kvsnprintf(buf, size, fmt, ap);
        va_end(ap);
        return n;
}
