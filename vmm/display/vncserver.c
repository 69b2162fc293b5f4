#include "vmm/display/vncserver.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "common/error.h"

#ifndef VNCSERVER_SONAME
#error "configure defines VNCSERVER_SONAME, the name libvncserver is loaded by"
#endif

int vncserver_load(struct vncserver *lib, char *err, size_t errlen)
{
	memset(lib, 0, sizeof(*lib));
	lib->handle = dlopen(VNCSERVER_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!lib->handle)
		return error_set(err, errlen, -ENOENT,
				 "cannot load %s for the VM's screen: %s (install the Debian package libvncserver1)",
				 VNCSERVER_SONAME, dlerror());
#define VNCSERVER_FIND(sym)                                                                   \
	if (!(lib->sym = dlsym(lib->handle, #sym))) {                                         \
		vncserver_unload(lib);                                                        \
		return error_set(err, errlen, -ENOENT, "%s lacks %s: it is not the libvncserver " \
				 "this vmm was built for", VNCSERVER_SONAME, #sym);           \
	}
	VNCSERVER_SYMBOLS(VNCSERVER_FIND)
#undef VNCSERVER_FIND
	return 0;
}

void vncserver_unload(struct vncserver *lib)
{
	if (lib->handle)
		dlclose(lib->handle);
	memset(lib, 0, sizeof(*lib));
}
