/*
 * libvncserver, loaded when a VM has a display rather than linked: a
 * headless VM then maps none of it, nor the TLS, crypto and image
 * libraries it brings (about 3 MiB of resident pages in every vmm).
 * The entries carry the library's own names and the types its header
 * declares; rfbLog and rfbErr point at the library's variables.
 */
#ifndef WEBKVM_VMM_DISPLAY_VNCSERVER_H
#define WEBKVM_VMM_DISPLAY_VNCSERVER_H

#include <rfb/rfb.h>
#include <stddef.h>

#define VNCSERVER_SYMBOLS(X)                                                               \
	X(rfbLog) X(rfbErr) X(rfbGetScreen) X(rfbScreenCleanup) X(rfbNewClient)            \
	X(rfbStartOnHoldClient) X(rfbIncrClientRef) X(rfbDecrClientRef) X(rfbCloseClient)  \
	X(rfbGetClientIterator) X(rfbClientIteratorNext) X(rfbReleaseClientIterator)       \
	X(rfbMarkRectAsModified) X(rfbReadExact) X(rfbWriteExact) X(rfbCheckPasswordByList) \
	X(rfbRegisterProtocolExtension) X(rfbUnregisterProtocolExtension)

struct vncserver {
	void *handle;
#define VNCSERVER_ENTRY(sym) __typeof__(sym) *sym;
	VNCSERVER_SYMBOLS(VNCSERVER_ENTRY)
#undef VNCSERVER_ENTRY
};

/* Load the library and find every entry. 0 or -ENOENT with err. */
int vncserver_load(struct vncserver *lib, char *err, size_t errlen);
/* The library stays mapped (its extension list is global); only the handle goes. */
void vncserver_unload(struct vncserver *lib);

#endif
