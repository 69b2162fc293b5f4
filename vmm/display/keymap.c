/*
 * Keysym to XT code.
 *
 * NOTES
 * - A plain RFB key event names a symbol, not a key; viewers send the
 *   modifiers they hold as events of their own, so '!' maps to the '1'
 *   key and Shift comes separately. This is a US layout: a guest with
 *   another layout needs the viewer to send QEMU's extended key event,
 *   which carries the key's own code (noVNC does).
 * - Latin-1 letters of other layouts go to the key that has them on the
 *   layout they are most common on (German umlauts, French accents), so
 *   a guest set to that layout types them from a viewer without extended
 *   key events.
 */
#include "vmm/display/keymap.h"

#include <rfb/keysym.h>

#include "common/util.h"

struct keysym_xt {
	uint32_t keysym;
	uint16_t xt;
};

static const struct keysym_xt keymap[] = {
	{ XK_Escape, 0x01 },
	{ XK_1, 0x02 }, { XK_exclam, 0x02 },
	{ XK_2, 0x03 }, { XK_at, 0x03 },
	{ XK_3, 0x04 }, { XK_numbersign, 0x04 },
	{ XK_4, 0x05 }, { XK_dollar, 0x05 },
	{ XK_5, 0x06 }, { XK_percent, 0x06 },
	{ XK_6, 0x07 }, { XK_asciicircum, 0x07 },
	{ XK_7, 0x08 }, { XK_ampersand, 0x08 },
	{ XK_8, 0x09 }, { XK_asterisk, 0x09 },
	{ XK_9, 0x0a }, { XK_parenleft, 0x0a },
	{ XK_0, 0x0b }, { XK_parenright, 0x0b },
	{ XK_minus, 0x0c }, { XK_underscore, 0x0c },
	{ XK_equal, 0x0d }, { XK_plus, 0x0d },
	{ XK_BackSpace, 0x0e },
	{ XK_Tab, 0x0f }, { XK_ISO_Left_Tab, 0x0f },
	{ XK_q, 0x10 }, { XK_Q, 0x10 }, { XK_w, 0x11 }, { XK_W, 0x11 },
	{ XK_e, 0x12 }, { XK_E, 0x12 }, { XK_r, 0x13 }, { XK_R, 0x13 },
	{ XK_t, 0x14 }, { XK_T, 0x14 }, { XK_y, 0x15 }, { XK_Y, 0x15 },
	{ XK_u, 0x16 }, { XK_U, 0x16 }, { XK_i, 0x17 }, { XK_I, 0x17 },
	{ XK_o, 0x18 }, { XK_O, 0x18 }, { XK_p, 0x19 }, { XK_P, 0x19 },
	{ XK_bracketleft, 0x1a }, { XK_braceleft, 0x1a },
	{ XK_bracketright, 0x1b }, { XK_braceright, 0x1b },
	{ XK_Return, 0x1c },
	{ XK_Control_L, 0x1d },
	{ XK_a, 0x1e }, { XK_A, 0x1e }, { XK_s, 0x1f }, { XK_S, 0x1f },
	{ XK_d, 0x20 }, { XK_D, 0x20 }, { XK_f, 0x21 }, { XK_F, 0x21 },
	{ XK_g, 0x22 }, { XK_G, 0x22 }, { XK_h, 0x23 }, { XK_H, 0x23 },
	{ XK_j, 0x24 }, { XK_J, 0x24 }, { XK_k, 0x25 }, { XK_K, 0x25 },
	{ XK_l, 0x26 }, { XK_L, 0x26 },
	{ XK_semicolon, 0x27 }, { XK_colon, 0x27 },
	{ XK_apostrophe, 0x28 }, { XK_quotedbl, 0x28 },
	{ XK_grave, 0x29 }, { XK_asciitilde, 0x29 }, { XK_dead_grave, 0x29 },
	{ XK_Shift_L, 0x2a },
	{ XK_backslash, 0x2b }, { XK_bar, 0x2b },
	{ XK_z, 0x2c }, { XK_Z, 0x2c }, { XK_x, 0x2d }, { XK_X, 0x2d },
	{ XK_c, 0x2e }, { XK_C, 0x2e }, { XK_v, 0x2f }, { XK_V, 0x2f },
	{ XK_b, 0x30 }, { XK_B, 0x30 }, { XK_n, 0x31 }, { XK_N, 0x31 },
	{ XK_m, 0x32 }, { XK_M, 0x32 },
	{ XK_comma, 0x33 }, { XK_less, 0x33 },
	{ XK_period, 0x34 }, { XK_greater, 0x34 },
	{ XK_slash, 0x35 }, { XK_question, 0x35 },
	{ XK_Shift_R, 0x36 },
	{ XK_KP_Multiply, 0x37 },
	{ XK_Alt_L, 0x38 }, { XK_Meta_L, 0x38 },
	{ XK_space, 0x39 },
	{ XK_Caps_Lock, 0x3a },
	{ XK_F1, 0x3b }, { XK_F2, 0x3c }, { XK_F3, 0x3d }, { XK_F4, 0x3e },
	{ XK_F5, 0x3f }, { XK_F6, 0x40 }, { XK_F7, 0x41 }, { XK_F8, 0x42 },
	{ XK_F9, 0x43 }, { XK_F10, 0x44 }, { XK_F11, 0x57 }, { XK_F12, 0x58 },
	{ XK_Num_Lock, 0x45 },
	{ XK_Scroll_Lock, 0x46 },
	{ XK_KP_7, 0x47 }, { XK_KP_Home, 0x47 },
	{ XK_KP_8, 0x48 }, { XK_KP_Up, 0x48 },
	{ XK_KP_9, 0x49 }, { XK_KP_Prior, 0x49 },
	{ XK_KP_Subtract, 0x4a },
	{ XK_KP_4, 0x4b }, { XK_KP_Left, 0x4b },
	{ XK_KP_5, 0x4c }, { XK_KP_Begin, 0x4c },
	{ XK_KP_6, 0x4d }, { XK_KP_Right, 0x4d },
	{ XK_KP_Add, 0x4e },
	{ XK_KP_1, 0x4f }, { XK_KP_End, 0x4f },
	{ XK_KP_2, 0x50 }, { XK_KP_Down, 0x50 },
	{ XK_KP_3, 0x51 }, { XK_KP_Next, 0x51 },
	{ XK_KP_0, 0x52 }, { XK_KP_Insert, 0x52 },
	{ XK_KP_Decimal, 0x53 }, { XK_KP_Delete, 0x53 }, { XK_KP_Separator, 0x53 },
	{ XK_Sys_Req, 0x54 },
	{ XK_KP_Enter, 0x9c },
	{ XK_Control_R, 0x9d },
	{ XK_KP_Divide, 0xb5 },
	{ XK_Print, 0xb7 },
	{ XK_Alt_R, 0xb8 }, { XK_Meta_R, 0xb8 }, { XK_ISO_Level3_Shift, 0xb8 },
	{ XK_Mode_switch, 0xb8 },
	{ XK_Home, 0xc7 }, { XK_Up, 0xc8 }, { XK_Prior, 0xc9 },
	{ XK_Left, 0xcb }, { XK_Right, 0xcd },
	{ XK_End, 0xcf }, { XK_Down, 0xd0 }, { XK_Next, 0xd1 },
	{ XK_Insert, 0xd2 }, { XK_Delete, 0xd3 },
	{ XK_Super_L, 0xdb }, { XK_Super_R, 0xdc }, { XK_Menu, 0xdd },
	/* Japanese keyboards */
	{ XK_Hiragana_Katakana, 0x70 }, { XK_Katakana, 0x70 }, { XK_Hiragana, 0x70 },
	{ XK_Henkan, 0x79 }, { XK_Muhenkan, 0x7b },
	{ XK_yen, 0x7d },
	/* German and French letters on the keys that carry them there */
	{ XK_ssharp, 0x0c }, { XK_udiaeresis, 0x1a }, { XK_Udiaeresis, 0x1a },
	{ XK_odiaeresis, 0x27 }, { XK_Odiaeresis, 0x27 },
	{ XK_adiaeresis, 0x28 }, { XK_Adiaeresis, 0x28 },
	{ XK_section, 0x04 }, { XK_degree, 0x29 }, { XK_dead_circumflex, 0x29 },
	{ XK_eacute, 0x03 }, { XK_egrave, 0x08 }, { XK_ccedilla, 0x0a },
	{ XK_agrave, 0x0b }, { XK_ugrave, 0x28 }, { XK_sterling, 0x04 },
	{ XK_EuroSign, 0x12 },
};

unsigned int keymap_xt_of_keysym(uint32_t keysym)
{
	for (size_t i = 0; i < ARRAY_SIZE(keymap); i++)
		if (keymap[i].keysym == keysym)
			return keymap[i].xt;
	return 0;
}
