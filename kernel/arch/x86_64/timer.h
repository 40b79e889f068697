/* timer.h - PIT + PIC (timer.c). */
#ifndef ARCH_X86_64_TIMER_H
#define ARCH_X86_64_TIMER_H

#define IRQ_VECTOR_BASE 32
#define IRQ_TIMER       0

void timer_init(void);
void irq_eoi(unsigned irq);
void pic_enable_line(unsigned irq);

#endif
