/*
 * A small encoder for the ACPI Machine Language objects webkvm's DSDT
 * needs (ACPI 6.5 §20): names, integers, strings, packages, buffers,
 * scopes and devices. Nested objects are built in their own buffer and
 * then wrapped, because a package length precedes its contents.
 */
#ifndef WEBKVM_VMM_X86_AML_H
#define WEBKVM_VMM_X86_AML_H

#include <stddef.h>
#include <stdint.h>

#define AML_MAX 16384

struct aml {
	uint8_t data[AML_MAX];
	size_t len;
	int overflow; /* set when something did not fit or was not encodable; the result is unusable */
};

void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t b);
/* One name segment of up to 4 characters, optionally rooted: "\\_SB_", "COM1". */
void aml_namestring(struct aml *a, const char *name);
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* Name (name, <the object in obj>) */
void aml_name(struct aml *a, const char *name, const struct aml *obj);
/* Package () { <count elements in body> } */
void aml_package(struct aml *a, uint8_t count, const struct aml *body);
/* Buffer () { bytes } */
void aml_buffer(struct aml *a, const uint8_t *bytes, size_t n);
void aml_scope(struct aml *a, const char *name, const struct aml *body);
void aml_device(struct aml *a, const char *name, const struct aml *body);

/* Resource template items (ACPI 6.5 §6.4), appended to a plain byte list. */
void aml_res_io(struct aml *res, uint16_t base, uint8_t len);
void aml_res_irq(struct aml *res, unsigned int irq);
/* Address space descriptors (§6.4.3.5): what a PCI root bridge passes on to its bus. */
#define AML_RES_MEMORY 0
#define AML_RES_IO 1
#define AML_RES_BUS 2
void aml_res_word(struct aml *res, uint8_t type, uint16_t min, uint16_t max);
void aml_res_dword(struct aml *res, uint8_t type, uint32_t min, uint32_t max);
void aml_res_end(struct aml *res);

#endif
