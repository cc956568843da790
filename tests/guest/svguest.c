/* svguest.c: "Guest A", a few-KB multiboot kernel that QEMU boots with -kernel for tests.
 *
 * It prints "GUEST: booting" on COM1, arms the ACPI power button (read from the FADT, so
 * -machine pc and q35 both work), prints "READY", then sleeps in hlt between 100 Hz PIT
 * ticks. Words of the multiboot command line (QEMU -append "...") choose what it does:
 *
 *   (none)     power button -> "GUEST: power button, powering off", ACPI S5
 *   ignore     power button -> "GUEST: power button ignored", keep running
 *   off=MS     power off by itself MS ms after READY
 *   panic=MS   MS ms after READY write 1 to the pvpanic port 0x505, then halt forever
 *   reset=MS   MS ms after READY reset through port 0xcf9
 *   echo       echo COM1 input in upper case; 'q' powers off
 *   tick       print "TICK N" once a second
 *   still      after READY halt with interrupts off: no timer wakes QEMU 100 times a
 *              second, so hundreds of guests leave the host's CPUs idle (the power
 *              button and the other words no longer act; destroy ends it)
 *
 * Freestanding: no libc headers, no libgcc (no 64-bit division), no floating point.
 * Paging stays off, so physical addresses are plain pointers.
 */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

#define MULTIBOOT_MAGIC 0x1BADB002u
#define MULTIBOOT_FLAGS 0u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT_INFO_CMDLINE (1u << 2)

#define COM1 0x3f8
#define PIT_HZ 100
#define PIT_INPUT_HZ 1193182
#define MS_PER_TICK (1000 / PIT_HZ)

#define PM1_PWRBTN (1u << 8)   /* PWRBTN_STS in PM1 status, PWRBTN_EN in PM1 enable */
#define PM1_SCI_EN (1u << 0)
#define PM1_SLP_TYP_MASK (7u << 10)
#define PM1_SLP_EN (1u << 13)
#define PVPANIC_PORT 0x505
#define RESET_CONTROL_PORT 0xcf9

#define NO_TIMER 0xffffffffu

/* QEMU only loads a multiboot kernel whose header sits in the first 8 KB of the file;
 * the linker script puts the .multiboot section first. Flags 0: the ELF headers say where
 * to load, and QEMU fills in the command line whatever the flags. */
__attribute__((section(".multiboot"), used, aligned(4)))
static const u32 multiboot_header[3] = {
    MULTIBOOT_MAGIC, MULTIBOOT_FLAGS, -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)
};

/* Incremented by the IRQ0 stub below; read with interrupts off or as one aligned load. */
volatile u32 guest_ticks;

void guest_main(u32 magic, const u32 *mbi);
void guest_fault(void);
void irq_timer_entry(void);
void irq_other_entry(void);
void fault_entry(void);

/* Entry: the multiboot loader leaves EAX = magic, EBX = info, flat protected mode, no
 * stack. Multiboot says the loader's GDT may be gone, so load our own before taking
 * interrupts. The bss (stack included) is cleared although QEMU already zero-fills it. */
__asm__(
    ".section .text.entry, \"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    "    cli\n"
    "    lgdt guest_gdt_desc\n"
    "    ljmp $0x08, $1f\n"
    "1:  movw $0x10, %cx\n"
    "    movw %cx, %ds\n"
    "    movw %cx, %es\n"
    "    movw %cx, %fs\n"
    "    movw %cx, %gs\n"
    "    movw %cx, %ss\n"
    "    movl %eax, %esi\n"
    "    movl $__bss_start, %edi\n"
    "    movl $__bss_end, %ecx\n"
    "    subl %edi, %ecx\n"
    "    xorl %eax, %eax\n"
    "    cld\n"
    "    rep stosb\n"
    "    movl $guest_stack_top, %esp\n"
    "    pushl %ebx\n"
    "    pushl %esi\n"
    "    call guest_main\n"
    "2:  cli\n"
    "    hlt\n"
    "    jmp 2b\n"
    "\n"
    ".text\n"
    ".globl irq_timer_entry\n"
    "irq_timer_entry:\n"
    "    pushl %eax\n"
    "    incl guest_ticks\n"
    "    movb $0x20, %al\n"
    "    outb %al, $0x20\n"
    "    popl %eax\n"
    "    iret\n"
    /* Any other IRQ (only COM1 is unmasked, plus spurious 7/15) just wakes hlt. */
    ".globl irq_other_entry\n"
    "irq_other_entry:\n"
    "    pushl %eax\n"
    "    movb $0x20, %al\n"
    "    outb %al, $0xa0\n"
    "    outb %al, $0x20\n"
    "    popl %eax\n"
    "    iret\n"
    ".globl fault_entry\n"
    "fault_entry:\n"
    "    cli\n"
    "    cld\n"
    "    movl $guest_stack_top, %esp\n"
    "    call guest_fault\n"
    "\n"
    ".section .rodata\n"
    ".align 8\n"
    "guest_gdt:\n"
    "    .quad 0\n"
    "    .quad 0x00CF9A000000FFFF\n" /* 0x08: flat 32-bit code */
    "    .quad 0x00CF92000000FFFF\n" /* 0x10: flat data */
    "guest_gdt_desc:\n"
    "    .word guest_gdt_desc - guest_gdt - 1\n"
    "    .long guest_gdt\n"
    "\n"
    ".section .bss\n"
    ".align 16\n"
    "guest_stack:\n"
    "    .skip 4096\n"
    "guest_stack_top:\n"
    ".text\n");

static inline void outb(u16 port, u8 v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline u16 inw(u16 port)
{
    u16 v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void cli(void)
{
    __asm__ volatile("cli" : : : "memory");
}

/* sti takes effect after the next instruction, so an interrupt that is already pending
 * wakes this hlt instead of being taken just before it. */
static inline void sti_hlt(void)
{
    __asm__ volatile("sti; hlt" : : : "memory");
}

static __attribute__((noreturn)) void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" : : : "memory");
}

/* PIT channel 0 in mode 0 (one count down, then its output stays high): QEMU's timer for
 * it stops once the count ran out, unlike the periodic mode the ticks use. */
static __attribute__((noreturn)) void pit_stop_and_halt(void)
{
    cli();
    outb(0x43, 0x30);
    outb(0x40, 0xff);
    outb(0x40, 0xff);
    halt_forever();
}

/* ---- COM1 ---- */

static void serial_init(int rx_irq)
{
    outb(COM1 + 1, 0x00);           /* IER: no interrupts while programming */
    outb(COM1 + 3, 0x80);           /* LCR: DLAB */
    outb(COM1 + 0, 0x01);           /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);           /* 8N1 */
    outb(COM1 + 2, 0x07);           /* FIFO on and cleared, RX trigger at 1 byte */
    outb(COM1 + 4, 0x0B);           /* DTR, RTS, OUT2 (gates the IRQ line to the PIC) */
    outb(COM1 + 1, rx_irq ? 0x01 : 0x00);
}

static void serial_putc(char c)
{
    while (!(inb(COM1 + 5) & 0x20))
        ;
    outb(COM1, (u8)c);
}

static void serial_puts(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            serial_putc('\r');
        serial_putc(*s);
    }
}

static void serial_putu(u32 v)
{
    char buf[11];
    int i = sizeof(buf);

    buf[--i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    serial_puts(&buf[i]);
}

static void serial_puthex(u32 v)
{
    static const char digits[] = "0123456789abcdef";
    int shift = 28;

    serial_puts("0x");
    while (shift > 0 && !(v >> shift))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        serial_putc(digits[(v >> shift) & 0xf]);
}

/* ---- command line ---- */

typedef struct {
    int ignore;
    int echo;
    int tick;
    int still;
    u32 off_ms;     /* NO_TIMER when not given */
    u32 panic_ms;
    u32 reset_ms;
} Options;

static int word_is(const char *w, u32 len, const char *name)
{
    u32 i;

    for (i = 0; i < len && name[i]; i++)
        if (w[i] != name[i])
            return 0;
    return i == len && !name[i];
}

/* "key=DIGITS": stores the number; anything else leaves *out alone and returns 0. */
static int word_value(const char *w, u32 len, const char *key, u32 *out)
{
    u32 i = 0, v = 0;

    for (; key[i]; i++)
        if (i >= len || w[i] != key[i])
            return 0;
    if (i == len)
        return 0;
    for (; i < len; i++) {
        if (w[i] < '0' || w[i] > '9')
            return 0;
        v = v * 10 + (u32)(w[i] - '0');
    }
    *out = v;
    return 1;
}

/* QEMU passes "KERNEL-PATH APPEND-TEXT"; the path never equals an option word, so every
 * word is looked at and unknown ones are ignored. */
static void options_parse(const char *cmdline, Options *opt)
{
    const char *p = cmdline;

    while (*p) {
        const char *w;
        u32 len;

        while (*p == ' ')
            p++;
        w = p;
        while (*p && *p != ' ')
            p++;
        len = (u32)(p - w);
        if (!len)
            continue;
        if (word_is(w, len, "ignore"))
            opt->ignore = 1;
        else if (word_is(w, len, "echo"))
            opt->echo = 1;
        else if (word_is(w, len, "tick"))
            opt->tick = 1;
        else if (word_is(w, len, "still"))
            opt->still = 1;
        else if (!word_value(w, len, "off=", &opt->off_ms) &&
                 !word_value(w, len, "panic=", &opt->panic_ms))
            word_value(w, len, "reset=", &opt->reset_ms);
    }
}

/* ---- interrupts: IDT, PIC, PIT ---- */

typedef struct {
    u16 offset_lo;
    u16 selector;
    u8 zero;
    u8 type;
    u16 offset_hi;
} __attribute__((packed)) IdtGate;

typedef struct {
    u16 limit;
    u32 base;
} __attribute__((packed)) IdtDesc;

/* Exceptions 0-31 and the remapped PIC vectors 0x20-0x2f; anything higher faults (#GP). */
static IdtGate idt[48];

static void idt_set(u32 vector, void (*handler)(void))
{
    u32 addr = (u32)handler;

    idt[vector].offset_lo = (u16)addr;
    idt[vector].selector = 0x08;
    idt[vector].zero = 0;
    idt[vector].type = 0x8E;    /* present, ring 0, 32-bit interrupt gate */
    idt[vector].offset_hi = (u16)(addr >> 16);
}

static void interrupts_init(int serial_irq)
{
    IdtDesc desc = { sizeof(idt) - 1, (u32)idt };
    u32 v;
    u16 divisor = (PIT_INPUT_HZ + PIT_HZ / 2) / PIT_HZ;

    for (v = 0; v < 32; v++)
        idt_set(v, fault_entry);
    idt_set(0x20, irq_timer_entry);
    for (v = 0x21; v < 0x30; v++)
        idt_set(v, irq_other_entry);
    __asm__ volatile("lidt %0" : : "m"(desc));

    /* Move the PICs off the exception vectors: master to 0x20, slave to 0x28. */
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    /* Only the timer, and COM1 (IRQ4) for echo. ACPI's SCI stays masked: the power
     * button status is polled every tick. */
    outb(0x21, serial_irq ? 0xEE : 0xFE);
    outb(0xa1, 0xFF);

    outb(0x43, 0x34);           /* channel 0, lo/hi byte, rate generator */
    outb(0x40, (u8)divisor);
    outb(0x40, (u8)(divisor >> 8));
}

void guest_fault(void)
{
    serial_puts("GUEST: CPU exception, halting\n");
    halt_forever();
}

/* ---- ACPI ---- */

typedef struct {
    u16 pm1a_evt;       /* PM1 status; the enable register follows it */
    u16 pm1a_en;
    u16 pm1a_cnt;
    u16 smi_cmd;
    u8 acpi_enable;
} Acpi;

static u32 rd32(const u8 *p)
{
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static int bytes_eq(const u8 *p, const char *s, u32 n)
{
    u32 i;

    for (i = 0; i < n; i++)
        if (p[i] != (u8)s[i])
            return 0;
    return 1;
}

static int checksum_ok(const u8 *p, u32 len)
{
    u8 sum = 0;
    u32 i;

    for (i = 0; i < len; i++)
        sum += p[i];
    return sum == 0;
}

/* The RSDP sits on a 16-byte boundary in the BIOS area; the checksum rules out the
 * signature turning up inside SeaBIOS's own code. */
static const u8 *rsdp_find(void)
{
    u32 a;

    for (a = 0xE0000; a < 0x100000; a += 16) {
        const u8 *p = (const u8 *)a;

        if (bytes_eq(p, "RSD PTR ", 8) && checksum_ok(p, 20))
            return p;
    }
    return 0;
}

static const u8 *fadt_find(void)
{
    const u8 *rsdp = rsdp_find();
    const u8 *rsdt;
    u32 len, off;

    if (!rsdp)
        return 0;
    rsdt = (const u8 *)rd32(rsdp + 16);
    if (!bytes_eq(rsdt, "RSDT", 4))
        return 0;
    len = rd32(rsdt + 4);
    for (off = 36; off + 4 <= len; off += 4) {
        const u8 *t = (const u8 *)rd32(rsdt + off);

        if (bytes_eq(t, "FACP", 4))
            return t;
    }
    return 0;
}

/* Fills *acpi from the FADT; without one, falls back to QEMU's -machine pc ports. */
static void acpi_find(Acpi *acpi)
{
    const u8 *fadt = fadt_find();
    u32 evt_len = 4;

    if (fadt) {
        acpi->smi_cmd = (u16)rd32(fadt + 48);
        acpi->acpi_enable = fadt[52];
        acpi->pm1a_evt = (u16)rd32(fadt + 56);
        acpi->pm1a_cnt = (u16)rd32(fadt + 64);
        if (fadt[88])
            evt_len = fadt[88];
    } else {
        serial_puts("GUEST: no FADT, using -machine pc defaults\n");
        acpi->smi_cmd = 0xb2;
        acpi->acpi_enable = 0xf1;
        acpi->pm1a_evt = 0x600;
        acpi->pm1a_cnt = 0x604;
    }
    acpi->pm1a_en = (u16)(acpi->pm1a_evt + evt_len / 2);
    serial_puts("GUEST: ACPI pm1a_evt=");
    serial_puthex(acpi->pm1a_evt);
    serial_puts(" pm1a_cnt=");
    serial_puthex(acpi->pm1a_cnt);
    serial_puts(" smi_cmd=");
    serial_puthex(acpi->smi_cmd);
    serial_puts("\n");
}

/* Needs the timer running: waits up to a second for the firmware to set SCI_EN. */
static void acpi_enable_mode(const Acpi *acpi)
{
    u32 start;

    if (inw(acpi->pm1a_cnt) & PM1_SCI_EN)
        return;
    if (!acpi->smi_cmd || !acpi->acpi_enable) {
        serial_puts("GUEST: SCI_EN clear and no SMI_CMD\n");
        return;
    }
    serial_puts("GUEST: enabling ACPI through SMI_CMD\n");
    outb(acpi->smi_cmd, acpi->acpi_enable);
    start = guest_ticks;
    while (!(inw(acpi->pm1a_cnt) & PM1_SCI_EN)) {
        if (guest_ticks - start > PIT_HZ) {
            serial_puts("GUEST: SCI_EN did not come on\n");
            return;
        }
        sti_hlt();
    }
}

static void acpi_arm_power_button(const Acpi *acpi)
{
    outw(acpi->pm1a_evt, PM1_PWRBTN);   /* write 1 to clear a stale PWRBTN_STS */
    outw(acpi->pm1a_en, (u16)(inw(acpi->pm1a_en) | PM1_PWRBTN));
}

static __attribute__((noreturn)) void acpi_power_off(const Acpi *acpi)
{
    /* S5: QEMU's _S5 package gives SLP_TYP 0. Keep SCI_EN and the other bits. */
    u16 cnt = inw(acpi->pm1a_cnt) & (u16)~PM1_SLP_TYP_MASK;

    outw(acpi->pm1a_cnt, (u16)(cnt | PM1_SLP_EN));
    halt_forever();
}

/* ---- main loop ---- */

static int timer_due(u32 elapsed_ticks, u32 ms)
{
    return ms != NO_TIMER && elapsed_ticks >= (ms + MS_PER_TICK - 1) / MS_PER_TICK;
}

static void serial_echo(const Acpi *acpi)
{
    while (inb(COM1 + 5) & 0x01) {
        u8 c = inb(COM1);

        if (c >= 'a' && c <= 'z')
            serial_putc((char)(c - 'a' + 'A'));
        else
            serial_putc((char)c);
        if (c == 'q') {
            serial_puts("\nGUEST: q received, powering off\n");
            acpi_power_off(acpi);
        }
    }
}

static __attribute__((noreturn)) void main_loop(const Options *opt, const Acpi *acpi)
{
    u32 ready = guest_ticks;
    u32 seconds = 0;

    for (;;) {
        u32 elapsed;

        cli();
        elapsed = guest_ticks - ready;
        if (inw(acpi->pm1a_evt) & PM1_PWRBTN) {
            outw(acpi->pm1a_evt, PM1_PWRBTN);
            if (opt->ignore) {
                serial_puts("GUEST: power button ignored\n");
            } else {
                serial_puts("GUEST: power button, powering off\n");
                acpi_power_off(acpi);
            }
        }
        if (opt->echo)
            serial_echo(acpi);
        if (timer_due(elapsed, opt->off_ms)) {
            serial_puts("GUEST: off timer, powering off\n");
            acpi_power_off(acpi);
        }
        if (timer_due(elapsed, opt->panic_ms)) {
            serial_puts("GUEST: panicking\n");
            outb(PVPANIC_PORT, 1);
            halt_forever();
        }
        if (timer_due(elapsed, opt->reset_ms)) {
            serial_puts("GUEST: resetting\n");
            outb(RESET_CONTROL_PORT, 0x06);
            halt_forever();
        }
        if (opt->tick && elapsed >= (seconds + 1) * PIT_HZ) {
            seconds++;
            serial_puts("TICK ");
            serial_putu(seconds);
            serial_puts("\n");
        }
        sti_hlt();
    }
}

void guest_main(u32 magic, const u32 *mbi)
{
    Options opt = { 0, 0, 0, 0, NO_TIMER, NO_TIMER, NO_TIMER };
    Acpi acpi;

    if (magic == MULTIBOOT_BOOTLOADER_MAGIC && (mbi[0] & MULTIBOOT_INFO_CMDLINE))
        options_parse((const char *)mbi[4], &opt);
    serial_init(opt.echo);
    serial_puts("GUEST: booting\n");
    interrupts_init(opt.echo);
    acpi_find(&acpi);
    acpi_enable_mode(&acpi);
    acpi_arm_power_button(&acpi);
    serial_puts("READY\n");
    if (opt.still)
        pit_stop_and_halt();
    main_loop(&opt, &acpi);
}
