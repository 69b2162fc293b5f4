#include "vmm/x86/aml.h"

#include "common/util.h"

#include <string.h>

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82
#define AML_ROOT_CHAR '\\'

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > AML_MAX - a->len) {
		a->overflow = 1;
		return;
	}
	memcpy(a->data + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/* §20.2.4: PkgLength counts itself and what follows. */
static void aml_pkglength(struct aml *a, size_t body)
{
	if (body + 1 < 0x40) {
		aml_byte(a, body + 1);
	} else if (body + 2 < 0x1000) {
		size_t n = body + 2;

		aml_byte(a, 0x40 | (n & 0x0f));
		aml_byte(a, n >> 4);
	} else {
		size_t n = body + 3;

		aml_byte(a, 0x80 | (n & 0x0f));
		aml_byte(a, n >> 4);
		aml_byte(a, n >> 12);
	}
}

static void aml_nameseg(struct aml *a, const char *seg, size_t n)
{
	char s[4] = { '_', '_', '_', '_' };

	memcpy(s, seg, n > 4 ? 4 : n);
	aml_bytes(a, s, 4);
}

void aml_namestring(struct aml *a, const char *name)
{
	size_t n;

	if (*name == AML_ROOT_CHAR) {
		aml_byte(a, AML_ROOT_CHAR);
		name++;
	}
	/* One segment only: nested objects are reached through Scope(). */
	n = strlen(name);
	if (n == 0 || n > 4 || strchr(name, '.')) {
		a->overflow = 1; /* not encodable here: make the result unusable */
		return;
	}
	aml_nameseg(a, name, n);
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[8];
	int n;

	if (v == 0) {
		aml_byte(a, AML_ZERO_OP);
		return;
	}
	if (v == 1) {
		aml_byte(a, AML_ONE_OP);
		return;
	}
	if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		n = 1;
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		n = 2;
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		n = 4;
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		n = 8;
	}
	for (int i = 0; i < n; i++)
		b[i] = v >> (8 * i);
	aml_bytes(a, b, n);
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

void aml_name(struct aml *a, const char *name, const struct aml *obj)
{
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, name);
	aml_bytes(a, obj->data, obj->len);
	a->overflow |= obj->overflow;
}

void aml_package(struct aml *a, uint8_t count, const struct aml *body)
{
	aml_byte(a, AML_PACKAGE_OP);
	aml_pkglength(a, body->len + 1);
	aml_byte(a, count);
	aml_bytes(a, body->data, body->len);
	a->overflow |= body->overflow;
}

void aml_buffer(struct aml *a, const uint8_t *bytes, size_t n)
{
	struct aml size = { .len = 0 };

	aml_integer(&size, n);
	aml_byte(a, AML_BUFFER_OP);
	aml_pkglength(a, size.len + n);
	aml_bytes(a, size.data, size.len);
	aml_bytes(a, bytes, n);
}

static void aml_named_block(struct aml *a, const char *name, const struct aml *body)
{
	struct aml n = { .len = 0 };

	aml_namestring(&n, name);
	aml_pkglength(a, n.len + body->len);
	aml_bytes(a, n.data, n.len);
	aml_bytes(a, body->data, body->len);
	a->overflow |= body->overflow;
}

void aml_scope(struct aml *a, const char *name, const struct aml *body)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_named_block(a, name, body);
}

void aml_device(struct aml *a, const char *name, const struct aml *body)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	aml_named_block(a, name, body);
}

void aml_res_io(struct aml *res, uint16_t base, uint8_t len)
{
	/* §6.4.2.5 I/O port descriptor: 16-bit decode, fixed base */
	uint8_t d[8] = { 0x47, 0x01, base, base >> 8, base, base >> 8, 1, len };

	aml_bytes(res, d, sizeof(d));
}

void aml_res_irq(struct aml *res, unsigned int irq)
{
	/* §6.4.2.1 IRQ descriptor without flags: edge, active high, ISA */
	uint16_t mask = 1u << irq;
	uint8_t d[3] = { 0x22, mask, mask >> 8 };

	aml_bytes(res, d, sizeof(d));
}

/*
 * General flags: producer, min and max fixed (MIF|MAF), positive decode.
 * Type-specific flags: read-write, non-cacheable memory; ISA and non-ISA
 * ranges for I/O; none for bus numbers.
 */
#define AML_ADDR_GENERAL_FLAGS 0x0c
static uint8_t addr_type_flags(uint8_t type)
{
	return type == AML_RES_MEMORY ? 0x01 : type == AML_RES_IO ? 0x03 : 0x00;
}

void aml_res_word(struct aml *res, uint8_t type, uint16_t min, uint16_t max)
{
	/* §6.4.3.5.3 Word Address Space Descriptor */
	uint8_t d[16] = { 0x88, 13, 0, type, AML_ADDR_GENERAL_FLAGS, addr_type_flags(type) };
	uint16_t len = max - min + 1;

	put_le16(d + 8, min);
	put_le16(d + 10, max);
	put_le16(d + 14, len);
	aml_bytes(res, d, sizeof(d));
}

void aml_res_dword(struct aml *res, uint8_t type, uint32_t min, uint32_t max)
{
	/* §6.4.3.5.2 DWord Address Space Descriptor */
	uint8_t d[26] = { 0x87, 23, 0, type, AML_ADDR_GENERAL_FLAGS, addr_type_flags(type) };

	put_le32(d + 10, min);
	put_le32(d + 14, max);
	put_le32(d + 22, max - min + 1);
	aml_bytes(res, d, sizeof(d));
}

void aml_res_end(struct aml *res)
{
	/* §6.4.2.9 end tag; a zero checksum means "treat as correct" */
	uint8_t d[2] = { 0x79, 0x00 };

	aml_bytes(res, d, sizeof(d));
}
