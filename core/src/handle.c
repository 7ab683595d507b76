/* What every kind of handle shares: tags, activity, references, closing. */
#include "internal.h"

#include <stdlib.h>

int fuv__handle_check_any(const fuv_handle_t *h, fuv_handle_type_t type) {
  if (h == NULL || h->magic != FUV__HANDLE_MAGIC)
    return FUV_EINVAL;
  if (type != FUV_UNKNOWN_HANDLE && h->type != type)
    return FUV_EINVAL;
  return 0;
}

int fuv__handle_check(const fuv_handle_t *h, fuv_handle_type_t type) {
  int r = fuv__handle_check_any(h, type);
  if (r == 0 && (h->flags & FUV__HANDLE_CLOSING))
    return FUV_EINVAL;
  return r;
}

void fuv__handle_init(fuv_loop_t *loop, fuv_handle_t *h,
                      fuv_handle_type_t type, fuv__close_fn on_finish_close) {
  h->magic = FUV__HANDLE_MAGIC;
  h->type = type;
  h->flags = FUV__HANDLE_REF;
  h->loop = loop;
  h->data = NULL;
  h->close_cb = NULL;
  h->close_arg = NULL;
  h->on_pending = NULL;
  h->on_finish_close = on_finish_close;
  fuv__queue_init(&h->pending_queue);
  fuv__queue_init(&h->closing_queue);
  fuv__queue_insert_tail(&loop->handles, &h->handle_queue);
}

static int counts_for_loop(const fuv_handle_t *h) {
  return (h->flags & FUV__HANDLE_ACTIVE) && (h->flags & FUV__HANDLE_REF);
}

void fuv__handle_start(fuv_handle_t *h) {
  if (h->flags & FUV__HANDLE_ACTIVE)
    return;
  h->flags |= FUV__HANDLE_ACTIVE;
  if (counts_for_loop(h))
    h->loop->active_handles++;
}

void fuv__handle_stop(fuv_handle_t *h) {
  if (!(h->flags & FUV__HANDLE_ACTIVE))
    return;
  if (counts_for_loop(h))
    h->loop->active_handles--;
  h->flags &= ~FUV__HANDLE_ACTIVE;
}

void fuv__handle_make_pending(fuv_handle_t *h) {
  if (h->flags & FUV__HANDLE_PENDING)
    return;
  h->flags |= FUV__HANDLE_PENDING;
  fuv__queue_insert_tail(&h->loop->pending_handles, &h->pending_queue);
}

int fuv_close(fuv_handle_t *h, fuv_close_cb cb, void *arg) {
  int r = fuv__handle_check(h, FUV_UNKNOWN_HANDLE);
  if (r != 0)
    return r;
  h->close_cb = cb;
  h->close_arg = arg;
  switch (h->type) {
  case FUV_TCP:
  case FUV_PIPE:
    fuv__stream_close((fuv_stream_t *)h);
    break;
  case FUV_TIMER:
    fuv_timer_stop((fuv_timer_t *)h);
    break;
  case FUV_ASYNC:
    fuv__queue_remove(&((fuv_async_t *)h)->async_queue);
    break;
  case FUV_PREPARE:
  case FUV_CHECK:
  case FUV_IDLE:
    fuv__watcher_stop((fuv__watcher_t *)h);
    break;
  case FUV_UDP:
    fuv__udp_close((fuv_udp_t *)h);
    break;
  default:
    break;
  }
  fuv__handle_stop(h);
  h->flags |= FUV__HANDLE_CLOSING;
  fuv__queue_insert_tail(&h->loop->closing_handles, &h->closing_queue);
  return 0;
}

/* Runs from the loop's closing phase: the kind's last callbacks, then the
 * close callback, then the memory goes. */
void fuv__handle_finish_close(fuv_handle_t *h) {
  fuv__queue_remove(&h->closing_queue);
  if (h->flags & FUV__HANDLE_PENDING) {
    fuv__queue_remove(&h->pending_queue);
    h->flags &= ~FUV__HANDLE_PENDING;
  }
  if (h->on_finish_close != NULL)
    h->on_finish_close(h);
  if (h->close_cb != NULL)
    h->close_cb(h, h->close_arg);
  fuv__queue_remove(&h->handle_queue);
  h->magic = 0;
  free(h);
}

int fuv_is_active(const fuv_handle_t *h) {
  return fuv__handle_check_any(h, FUV_UNKNOWN_HANDLE) == 0 &&
         (h->flags & FUV__HANDLE_ACTIVE) != 0;
}

int fuv_is_closing(const fuv_handle_t *h) {
  return fuv__handle_check_any(h, FUV_UNKNOWN_HANDLE) == 0 &&
         (h->flags & FUV__HANDLE_CLOSING) != 0;
}

int fuv_ref(fuv_handle_t *h) {
  int r = fuv__handle_check_any(h, FUV_UNKNOWN_HANDLE);
  if (r != 0 || (h->flags & FUV__HANDLE_REF))
    return r;
  h->flags |= FUV__HANDLE_REF;
  if (h->flags & FUV__HANDLE_ACTIVE)
    h->loop->active_handles++;
  return 0;
}

int fuv_unref(fuv_handle_t *h) {
  int r = fuv__handle_check_any(h, FUV_UNKNOWN_HANDLE);
  if (r != 0 || !(h->flags & FUV__HANDLE_REF))
    return r;
  if (h->flags & FUV__HANDLE_ACTIVE)
    h->loop->active_handles--;
  h->flags &= ~FUV__HANDLE_REF;
  return 0;
}

int fuv_has_ref(const fuv_handle_t *h) {
  return fuv__handle_check_any(h, FUV_UNKNOWN_HANDLE) == 0 &&
         (h->flags & FUV__HANDLE_REF) != 0;
}

fuv_handle_type_t fuv_handle_type(const fuv_handle_t *h) {
  return fuv__handle_check_any(h, FUV_UNKNOWN_HANDLE) == 0 ? h->type
                                                           : FUV_UNKNOWN_HANDLE;
}

const char *fuv_handle_type_name(fuv_handle_type_t type) {
  switch (type) {
  case FUV_ASYNC:
    return "async";
  case FUV_PIPE:
    return "pipe";
  case FUV_TCP:
    return "tcp";
  case FUV_TIMER:
    return "timer";
  case FUV_PREPARE:
    return "prepare";
  case FUV_CHECK:
    return "check";
  case FUV_IDLE:
    return "idle";
  case FUV_UDP:
    return "udp";
  default:
    return "unknown";
  }
}

fuv_loop_t *fuv_handle_loop(const fuv_handle_t *h) {
  return fuv__handle_check_any(h, FUV_UNKNOWN_HANDLE) == 0 ? h->loop : NULL;
}

void *fuv_handle_get_data(const fuv_handle_t *h) {
  return fuv__handle_check_any(h, FUV_UNKNOWN_HANDLE) == 0 ? h->data : NULL;
}

int fuv_handle_set_data(fuv_handle_t *h, void *data) {
  int r = fuv__handle_check_any(h, FUV_UNKNOWN_HANDLE);
  if (r == 0)
    h->data = data;
  return r;
}

int fuv_fileno(const fuv_handle_t *h) {
  int r = fuv__handle_check(h, FUV_UNKNOWN_HANDLE);
  if (r != 0)
    return r;
  if (h->type == FUV_UDP)
    r = ((const fuv_udp_t *)h)->io.fd;
  else if (h->type == FUV_TCP || h->type == FUV_PIPE)
    r = fuv__stream_fd((const fuv_stream_t *)h);
  else
    return FUV_EINVAL;
  return r >= 0 ? r : FUV_EBADF;
}

static int get_buffer_size(const fuv_handle_t *h, int option) {
  int fd = fuv_fileno(h);
  if (fd < 0)
    return fd;
  return fuv__get_int_option(fd, SOL_SOCKET, option);
}

static int set_buffer_size(fuv_handle_t *h, int option, int size) {
  int fd = fuv_fileno(h);
  if (fd < 0)
    return fd;
  if (size <= 0)
    return FUV_EINVAL;
  return fuv__set_int_option(fd, SOL_SOCKET, option, size);
}

int fuv_get_send_buffer_size(const fuv_handle_t *h) {
  return get_buffer_size(h, SO_SNDBUF);
}

int fuv_get_recv_buffer_size(const fuv_handle_t *h) {
  return get_buffer_size(h, SO_RCVBUF);
}

int fuv_set_send_buffer_size(fuv_handle_t *h, int size) {
  return set_buffer_size(h, SO_SNDBUF, size);
}

int fuv_set_recv_buffer_size(fuv_handle_t *h, int size) {
  return set_buffer_size(h, SO_RCVBUF, size);
}
