#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/jsonrpc.h"
#include "common/sock.h"
#include "fcgi/vmmd.h"

int vmmd_call(const struct app *app, const char *method, json_object *params, json_object **ret,
	      char *code, size_t codelen, char *err, size_t errlen)
{
	int fd, r;

	*ret = NULL;
	if (codelen)
		code[0] = '\0';
	fd = unix_connect(app->vmmd_socket);
	if (fd < 0) {
		json_object_put(params);
		return error_set(err, errlen, fd, "the VM service is not reachable (%s)",
				 strerror(-fd));
	}
	r = jsonrpc_call(fd, method, params, app->vmmd_timeout_ms, ret, code, codelen, err, errlen);
	close(fd);
	return r;
}

int vmmd_call_vm(const struct app *app, const char *method, const char *name, json_object **ret,
		 char *code, size_t codelen, char *err, size_t errlen)
{
	json_object *params = json_object_new_object();

	json_object_object_add(params, "name", json_object_new_string(name));
	return vmmd_call(app, method, params, ret, code, codelen, err, errlen);
}
