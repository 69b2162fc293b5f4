/*
 * Linux x86 boot protocol (Documentation/arch/x86/boot.rst), 64-bit entry.
 *
 * NOTES
 * - Protocol 2.12 or later with XLF_KERNEL_64 is required: the 64-bit
 *   entry lies 0x200 bytes into the protected-mode code, which is loaded
 *   at 1 MiB. A relocatable kernel then moves itself to its preferred
 *   address (16 MiB for Debian's) and needs init_size bytes there, so the
 *   initrd goes as high as allowed and must stay clear of that range.
 * - The boot CPU starts in long mode with the first 4 GiB identity-mapped
 *   (2 MiB pages), __BOOT_CS = 0x10 and __BOOT_DS = 0x18, interrupts off,
 *   and %rsi pointing at boot_params, as the protocol asks.
 * - Files are read straight into guest memory; nothing is read twice.
 */
#include "vmm/x86/boot.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"
#include "vmm/x86/layout.h"

#define SETUP_HDR_OFFSET 0x1f1
#define HDRS_MAGIC 0x53726448 /* "HdrS" */
#define BOOT_FLAG_MAGIC 0xaa55
#define MIN_PROTOCOL 0x020c
#define LOADER_TYPE_UNDEFINED 0xff
#define ENTRY_64_OFFSET 0x200

#define BOOT_CS 0x10
#define BOOT_DS 0x18

#define PTE_PRESENT 0x1ULL
#define PTE_WRITE 0x2ULL
#define PTE_HUGE 0x80ULL

#define E820_RAM 1
#define E820_RESERVED 2

static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* the file shrank under us */
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int boot_open_file(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	return fd;
}

static int file_size(int fd, uint64_t *ret_size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*ret_size = st.st_size;
	return 0;
}

static void add_e820(struct boot_params *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr;
	e->size = size;
	e->type = type;
}

static void build_e820(struct boot_params *bp, const struct guest_mem *mem)
{
	add_e820(bp, 0, LAYOUT_EBDA, E820_RAM);
	add_e820(bp, LAYOUT_EBDA, LAYOUT_ISA_END - LAYOUT_EBDA, E820_RESERVED);
	add_e820(bp, LAYOUT_BIOS, LAYOUT_BIOS_END - LAYOUT_BIOS, E820_RESERVED);
	add_e820(bp, LAYOUT_KERNEL, mem->low_end - LAYOUT_KERNEL, E820_RAM);
	add_e820(bp, LAYOUT_PCI_ECAM, LAYOUT_PCI_ECAM_SIZE, E820_RESERVED);
	if (mem->total > mem->low_end)
		add_e820(bp, LAYOUT_HIGH_RAM, mem->total - mem->low_end, E820_RAM);
}

/* GDT and identity page tables for the first 4 GiB. */
static int build_boot_tables(struct guest_mem *mem)
{
	uint64_t *gdt = mem_ptr(mem, LAYOUT_GDT, 4 * 8);
	uint64_t *pml4 = mem_ptr(mem, LAYOUT_PML4, 4096);
	uint64_t *pdpt = mem_ptr(mem, LAYOUT_PDPT, 4096);
	uint64_t *pd = mem_ptr(mem, LAYOUT_PD, 4 * 4096);

	if (!gdt || !pml4 || !pdpt || !pd)
		return -ENOMEM;
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[BOOT_CS / 8] = 0x00af9b000000ffffULL; /* 64-bit code, DPL 0 */
	gdt[BOOT_DS / 8] = 0x00cf93000000ffffULL; /* 4 GiB data, DPL 0 */
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT | PTE_PRESENT | PTE_WRITE;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD + i * 4096) | PTE_PRESENT | PTE_WRITE;
	for (int i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_PRESENT | PTE_WRITE | PTE_HUGE;
	return 0;
}

/*
 * Read the first KiB of the kernel into head and check that it is a bzImage
 * that this loader can enter: the header, the protocol, a payload after the
 * setup code, and a command line that fits.
 */
static int check_kernel(int fd, const char *name, const char *cmdline, uint8_t head[1024],
			uint64_t *ksize, uint64_t *setup_len, char *err, size_t errlen)
{
	struct setup_header *hdr;
	uint64_t cmdline_len;
	int r;

	r = file_size(fd, ksize);
	if (r < 0)
		return error_set(err, errlen, r, "cannot read kernel %s: %s", name, strerror(-r));
	memset(head, 0, 1024);
	r = pread_full(fd, head, MIN(*ksize, 1024), 0);
	if (r < 0)
		return error_set(err, errlen, r, "cannot read kernel %s: %s", name, strerror(-r));
	hdr = (struct setup_header *)(head + SETUP_HDR_OFFSET);
	if (*ksize < 1024 || hdr->boot_flag != BOOT_FLAG_MAGIC || hdr->header != HDRS_MAGIC) {
		return error_set(err, errlen, -ENOEXEC,
			    "kernel %s is not a bzImage (no Linux boot protocol header)", name);
	}
	if (hdr->version < MIN_PROTOCOL || !(hdr->xloadflags & XLF_KERNEL_64) ||
	    !(hdr->loadflags & LOADED_HIGH)) {
		return error_set(err, errlen, -ENOEXEC,
			    "kernel %s has boot protocol %u.%02u without a 64-bit entry; "
			    "2.12 or later with a 64-bit entry is required",
			    name, hdr->version >> 8, hdr->version & 0xff);
	}
	*setup_len = ((hdr->setup_sects ? hdr->setup_sects : 4) + 1) * 512ULL;
	if (*setup_len >= *ksize) {
		return error_set(err, errlen, -ENOEXEC, "kernel %s is truncated: no code after its %llu-byte setup",
			    name, (unsigned long long)*setup_len);
	}
	cmdline_len = strlen(cmdline);
	if (cmdline_len >= LAYOUT_CMDLINE_MAX || (hdr->cmdline_size && cmdline_len > hdr->cmdline_size))
		return error_set(err, errlen, -E2BIG,
			    "kernel command line is %llu bytes; this kernel takes at most %u",
			    (unsigned long long)cmdline_len,
			    (unsigned int)MIN(hdr->cmdline_size ? hdr->cmdline_size : 255,
					      LAYOUT_CMDLINE_MAX - 1));
	return 0;
}

int boot_check_kernel(int fd, const char *name, const char *cmdline, char *err, size_t errlen)
{
	uint8_t head[1024];
	uint64_t ksize, setup_len;

	return check_kernel(fd, name, cmdline, head, &ksize, &setup_len, err, errlen);
}

int boot_load_linux(struct guest_mem *mem, const struct boot_config *cfg, char *err,
		    size_t errlen)
{
	uint8_t head[1024];
	struct boot_params *bp;
	struct setup_header *hdr;
	uint64_t ksize = 0, setup_len, payload_len, kernel_end, cmdline_len, hdr_len;
	uint64_t initrd_size = 0, initrd_addr = 0;
	void *dst;
	int fd, r;

	fd = cfg->kernel_fd;
	r = check_kernel(fd, cfg->kernel, cfg->cmdline, head, &ksize, &setup_len, err, errlen);
	if (r < 0)
		return r;
	hdr = (struct setup_header *)(head + SETUP_HDR_OFFSET);
	payload_len = ksize - setup_len;
	/* A relocatable kernel decompresses at its preferred address. */
	kernel_end = MAX(LAYOUT_KERNEL, hdr->pref_address) + MAX(hdr->init_size, payload_len);
	if (LAYOUT_KERNEL + payload_len > mem->low_end || kernel_end > mem->low_end) {
		return error_set(err, errlen, -ENOMEM,
			    "kernel %s needs %llu MiB of memory to unpack; the guest has %llu MiB",
			    cfg->kernel, (unsigned long long)(kernel_end / MiB + 1),
			    (unsigned long long)(mem->total / MiB));
	}
	dst = mem_ptr(mem, LAYOUT_KERNEL, payload_len);
	r = pread_full(fd, dst, payload_len, setup_len);
	if (r < 0)
		return error_set(err, errlen, r, "cannot read kernel %s: %s", cfg->kernel, strerror(-r));

	cmdline_len = strlen(cfg->cmdline);
	memcpy(mem_ptr(mem, LAYOUT_CMDLINE, cmdline_len + 1), cfg->cmdline, cmdline_len + 1);

	if (cfg->initrd) {
		uint64_t top = MIN(mem->low_end, (uint64_t)hdr->initrd_addr_max + 1);

		fd = cfg->initrd_fd;
		r = file_size(fd, &initrd_size);
		if (r < 0)
			return error_set(err, errlen, r, "cannot read initrd %s: %s", cfg->initrd,
				    strerror(-r));
		if (initrd_size > top || ALIGN_DOWN(top - initrd_size, 4096) < kernel_end) {
			return error_set(err, errlen, -ENOMEM,
				    "initrd %s (%llu MiB) does not fit in guest memory below %llu MiB "
				    "next to the kernel; give the guest more memory",
				    cfg->initrd, (unsigned long long)(initrd_size / MiB),
				    (unsigned long long)(top / MiB));
		}
		initrd_addr = ALIGN_DOWN(top - initrd_size, 4096);
		r = pread_full(fd, mem_ptr(mem, initrd_addr, initrd_size), initrd_size, 0);
		if (r < 0)
			return error_set(err, errlen, r, "cannot read initrd %s: %s", cfg->initrd,
				    strerror(-r));
	}

	bp = mem_ptr(mem, LAYOUT_BOOT_PARAMS, sizeof(*bp));
	memset(bp, 0, sizeof(*bp));
	/* The header runs from 0x1f1 to the end its jump instruction names. */
	hdr_len = MIN((uint64_t)(0x202 + head[0x201] - SETUP_HDR_OFFSET), sizeof(bp->hdr));
	memcpy(&bp->hdr, hdr, hdr_len);
	bp->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	bp->hdr.cmd_line_ptr = LAYOUT_CMDLINE;
	bp->hdr.ramdisk_image = initrd_addr;
	bp->hdr.ramdisk_size = initrd_size;
	bp->hdr.vid_mode = 0xffff; /* "normal" */
	if (cfg->screen)
		bp->screen_info = *cfg->screen;
	bp->acpi_rsdp_addr = cfg->rsdp;
	build_e820(bp, mem);

	r = build_boot_tables(mem);
	if (r < 0)
		return error_set(err, errlen, r, "guest memory is too small for the boot page tables");
	return 0;
}

int boot_setup_bsp(int vcpu_fd)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = BOOT_CS, .type = 0xb,
		.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = BOOT_DS, .type = 0x3,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.tr = (struct kvm_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	sregs.gdt.base = LAYOUT_GDT;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = 0x80000033; /* PG, NE, ET, MP, PE */
	sregs.cr3 = LAYOUT_PML4;
	sregs.cr4 = 0x20;       /* PAE */
	sregs.efer = 0x500;     /* LMA, LME */
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	regs.rflags = 0x2;
	regs.rip = LAYOUT_KERNEL + ENTRY_64_OFFSET;
	regs.rsi = LAYOUT_BOOT_PARAMS;
	regs.rsp = LAYOUT_BOOT_PARAMS; /* below the zero page; the kernel sets its own */
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}
