/* 64-bit entry of the test guest: 0x200 bytes into the payload at 1 MiB. */
	.code64
	.section .text.entry, "ax"
	.globl entry32
entry32:
	/* The 32-bit entry is not used by vmm: stop if anyone jumps here. */
	hlt
	jmp entry32
	.org 0x200
	.globl entry64
entry64:
	cli
	mov %rsi, %rbx          /* boot_params, kept across the clearing */
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	cld
	rep stosb
	mov %rbx, %rsi
	lea stack_top(%rip), %rsp
	mov %rsi, %rdi          /* boot_params */
	call guest_main
1:	hlt
	jmp 1b

	/* guest=pit: count timer interrupts; the others end the 8259s' interrupt */
	.globl pit_irq_entry
pit_irq_entry:
	push %rax
	lock incl pit_ticks(%rip)
	mov $0x20, %al
	out %al, $0x20
	pop %rax
	iretq

	.globl other_irq_entry
other_irq_entry:
	push %rax
	mov $0x20, %al
	out %al, $0x20
	pop %rax
	iretq

	/* IRQ8-15 come through the slave 8259: both end the interrupt */
	.globl slave_irq_entry
slave_irq_entry:
	push %rax
	mov $0x20, %al
	out %al, $0xa0
	out %al, $0x20
	pop %rax
	iretq

	.section .bss
	.balign 4
	.globl pit_ticks
pit_ticks:
	.long 0
	.balign 16
stack:
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
