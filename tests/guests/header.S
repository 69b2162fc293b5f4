/*
 * The first 1024 bytes of the test guest's bzImage: a boot sector holding
 * the Linux setup header (boot protocol 2.15), and one setup sector.
 * The protected-mode payload follows at offset 1024 and is entered at its
 * 64-bit entry, 0x200 bytes in. The setup code only idles (for loaders
 * that run it, such as QEMU's, in benchmarks).
 */
	.code16
	.section .text
	.globl _start
_start:
	.org 0x1f1
	.byte 1                 /* setup_sects */
	.word 0                 /* root_flags */
	.long 0x1000            /* syssize, in 16-byte units */
	.word 0                 /* ram_size */
	.word 0xffff            /* vid_mode */
	.word 0                 /* root_dev */
	.word 0xaa55            /* boot_flag */
	.byte 0xeb, hdr_end - _start - 0x202 /* jump over the header; its target ends it */
	.ascii "HdrS"           /* header */
	.word 0x020f            /* version */
	.long 0                 /* realmode_swtch */
	.word 0                 /* start_sys_seg */
	.word 0                 /* kernel_version */
	.byte 0                 /* type_of_loader */
	.byte 0x01              /* loadflags: LOADED_HIGH */
	.word 0                 /* setup_move_size */
	.long 0x100000          /* code32_start */
	.long 0                 /* ramdisk_image */
	.long 0                 /* ramdisk_size */
	.long 0                 /* bootsect_kludge */
	.word 0                 /* heap_end_ptr */
	.byte 0                 /* ext_loader_ver */
	.byte 0                 /* ext_loader_type */
	.long 0                 /* cmd_line_ptr */
	.long 0x7fffffff        /* initrd_addr_max */
	.long 0x200000          /* kernel_alignment */
	.byte 0                 /* relocatable_kernel */
	.byte 0                 /* min_alignment */
	.word 0x0001            /* xloadflags: XLF_KERNEL_64 */
	.long 2047              /* cmdline_size */
	.long 0                 /* hardware_subarch */
	.quad 0                 /* hardware_subarch_data */
	.long 0                 /* payload_offset */
	.long 0                 /* payload_length */
	.quad 0                 /* setup_data */
	.quad 0x100000          /* pref_address */
	.long 0x100000          /* init_size */
	.long 0                 /* handover_offset */
	.long 0                 /* kernel_info_offset */
hdr_end:
	/*
	 * A loader that enters the real-mode setup code (QEMU's -kernel does)
	 * lands here: the guest idles with interrupts off. vmm enters the
	 * payload's 64-bit entry instead.
	 */
	cli
1:	hlt
	jmp 1b
	.org 1024
