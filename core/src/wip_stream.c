/* Temporary: FUV_ENOSYS stand-ins for the stream work (pipes, requests, accept into, fd passing), declared in flatuv.h
 * while it is being written, so that every binding links meanwhile. Each
 * goes when its real definition lands; the file goes with the last. */
#include "internal.h"

#include <stddef.h>

int fuv_stream_accept(fuv_stream_t *server, fuv_stream_t **client) {
  (void)server;
  (void)client;
  if (client != NULL) *client = NULL;
  return FUV_ENOSYS;
}

int fuv_stream_accept_into(fuv_stream_t *server, fuv_stream_t *client) {
  (void)server;
  (void)client;
  return FUV_ENOSYS;
}

int fuv_write2(fuv_stream_t *stream, const char *data, size_t len, fuv_stream_t *send_handle, fuv_write_cb cb, void *arg) {
  (void)stream;
  (void)data;
  (void)len;
  (void)send_handle;
  (void)cb;
  (void)arg;
  return FUV_ENOSYS;
}

int fuv_write_req(fuv_stream_t *stream, const char *data, size_t len, fuv_write_cb cb, void *arg, fuv_req_t **req) {
  (void)stream;
  (void)data;
  (void)len;
  (void)cb;
  (void)arg;
  (void)req;
  if (req != NULL) *req = NULL;
  return FUV_ENOSYS;
}

int fuv_writev_req(fuv_stream_t *stream, const char *const *bufs, const size_t *lens, size_t nbufs, fuv_write_cb cb, void *arg, fuv_req_t **req) {
  (void)stream;
  (void)bufs;
  (void)lens;
  (void)nbufs;
  (void)cb;
  (void)arg;
  (void)req;
  if (req != NULL) *req = NULL;
  return FUV_ENOSYS;
}

int fuv_write2_req(fuv_stream_t *stream, const char *data, size_t len, fuv_stream_t *send_handle, fuv_write_cb cb, void *arg, fuv_req_t **req) {
  (void)stream;
  (void)data;
  (void)len;
  (void)send_handle;
  (void)cb;
  (void)arg;
  (void)req;
  if (req != NULL) *req = NULL;
  return FUV_ENOSYS;
}

int fuv_shutdown_req(fuv_stream_t *stream, fuv_shutdown_cb cb, void *arg, fuv_req_t **req) {
  (void)stream;
  (void)cb;
  (void)arg;
  (void)req;
  if (req != NULL) *req = NULL;
  return FUV_ENOSYS;
}

int fuv_tcp_connect_req(fuv_tcp_t *tcp, const char *ip, int port, fuv_connect_cb cb, void *arg, fuv_req_t **req) {
  (void)tcp;
  (void)ip;
  (void)port;
  (void)cb;
  (void)arg;
  (void)req;
  if (req != NULL) *req = NULL;
  return FUV_ENOSYS;
}

int fuv_pipe_connect_req(fuv_pipe_t *pipe, const char *name, fuv_pipe_connect_cb cb, void *arg, fuv_req_t **req) {
  (void)pipe;
  (void)name;
  (void)cb;
  (void)arg;
  (void)req;
  if (req != NULL) *req = NULL;
  return FUV_ENOSYS;
}

int fuv_cancel(fuv_req_t *req) {
  (void)req;
  return FUV_ENOSYS;
}

fuv_req_type_t fuv_req_type(const fuv_req_t *req) {
  (void)req;
  return FUV_UNKNOWN_REQ;
}

const char * fuv_req_type_name(fuv_req_type_t type) {
  (void)type;
  return "unknown";
}

void fuv_req_release(fuv_req_t *req) {
  (void)req;
}

int fuv_pipe_new(fuv_pipe_t **out, fuv_loop_t *loop, int ipc) {
  (void)out;
  if (out != NULL) *out = NULL;
  (void)loop;
  (void)ipc;
  return FUV_ENOSYS;
}

int fuv_pipe_open(fuv_pipe_t *pipe, int fd) {
  (void)pipe;
  (void)fd;
  return FUV_ENOSYS;
}

int fuv_pipe_bind(fuv_pipe_t *pipe, const char *name) {
  (void)pipe;
  (void)name;
  return FUV_ENOSYS;
}

int fuv_pipe_bind2(fuv_pipe_t *pipe, const char *name, size_t namelen, unsigned int flags) {
  (void)pipe;
  (void)name;
  (void)namelen;
  (void)flags;
  return FUV_ENOSYS;
}

int fuv_pipe_connect(fuv_pipe_t *pipe, const char *name, fuv_pipe_connect_cb cb, void *arg) {
  (void)pipe;
  (void)name;
  (void)cb;
  (void)arg;
  return FUV_ENOSYS;
}

int fuv_pipe_connect2(fuv_pipe_t *pipe, const char *name, size_t namelen, unsigned int flags, fuv_pipe_connect_cb cb, void *arg) {
  (void)pipe;
  (void)name;
  (void)namelen;
  (void)flags;
  (void)cb;
  (void)arg;
  return FUV_ENOSYS;
}

int fuv_pipe_getsockname(const fuv_pipe_t *pipe, char *buf, size_t size, size_t *len) {
  (void)pipe;
  (void)buf;
  (void)size;
  (void)len;
  return FUV_ENOSYS;
}

int fuv_pipe_getpeername(const fuv_pipe_t *pipe, char *buf, size_t size, size_t *len) {
  (void)pipe;
  (void)buf;
  (void)size;
  (void)len;
  return FUV_ENOSYS;
}

int fuv_pipe_pending_instances(fuv_pipe_t *pipe, int count) {
  (void)pipe;
  (void)count;
  return FUV_ENOSYS;
}

int fuv_pipe_chmod(fuv_pipe_t *pipe, int flags) {
  (void)pipe;
  (void)flags;
  return FUV_ENOSYS;
}

int fuv_pipe_pending_count(fuv_pipe_t *pipe) {
  (void)pipe;
  return FUV_ENOSYS;
}

fuv_handle_type_t fuv_pipe_pending_type(fuv_pipe_t *pipe) {
  (void)pipe;
  return FUV_UNKNOWN_HANDLE;
}

int fuv_pipe(int *read_fd, int *write_fd, int read_flags, int write_flags) {
  (void)read_fd;
  (void)write_fd;
  (void)read_flags;
  (void)write_flags;
  return FUV_ENOSYS;
}

int fuv_stream_accept_sync(fuv_stream_t *server, fuv_stream_t **client, int timeout_ms) {
  (void)server;
  (void)client;
  if (client != NULL) *client = NULL;
  (void)timeout_ms;
  return FUV_ENOSYS;
}

int fuv_pipe_connect_sync(fuv_pipe_t *pipe, const char *name, int timeout_ms) {
  (void)pipe;
  (void)name;
  (void)timeout_ms;
  return FUV_ENOSYS;
}
