/* From what a VNC viewer sends (X keysyms) to PC keyboard codes. */
#ifndef WEBKVM_VMM_DISPLAY_KEYMAP_H
#define WEBKVM_VMM_DISPLAY_KEYMAP_H

#include <stdint.h>

/*
 * The XT code (0x80 set for E0-prefixed keys) of the key that types
 * keysym on a US keyboard with the ISO 102nd key and the Japanese keys,
 * or 0 when no key does.
 */
unsigned int keymap_xt_of_keysym(uint32_t keysym);

#endif
