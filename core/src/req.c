/* Request objects: what a caller holds to cancel an operation or ask its
 * kind. Each is allocated on its own, not from the loop: the caller may
 * release it at any time, after its handle and loop are gone too (the
 * bindings release it from their garbage collectors). */
#include "internal.h"

#include <stdlib.h>

fuv_req_t *fuv__req_new(fuv_req_type_t type, fuv_stream_t *s) {
  fuv_req_t *req = calloc(1, sizeof *req);
  if (req == NULL)
    return NULL;
  req->type = type;
  req->refs = 2; /* the caller's and the operation's */
  req->stream = s;
  return req;
}

static void req_unref(fuv_req_t *req) {
  if (--req->refs == 0)
    free(req);
}

void fuv__req_done(fuv_req_t *req) {
  if (req == NULL)
    return;
  req->stream = NULL;
  req->write = NULL;
  req->udp = NULL;
  req->send = NULL;
  req->work = NULL;
  req_unref(req);
}

void fuv_req_release(fuv_req_t *req) {
  if (req != NULL)
    req_unref(req);
}

fuv_req_type_t fuv_req_type(const fuv_req_t *req) {
  return req != NULL ? req->type : FUV_UNKNOWN_REQ;
}

const char *fuv_req_type_name(fuv_req_type_t type) {
  switch (type) {
  case FUV_CONNECT:
    return "connect";
  case FUV_WRITE:
    return "write";
  case FUV_SHUTDOWN:
    return "shutdown";
  case FUV_UDP_SEND:
    return "udp_send";
  case FUV_WORK:
    return "work";
  default:
    return "unknown";
  }
}

int fuv_cancel(fuv_req_t *req) {
  fuv_stream_t *s;
  if (req == NULL)
    return FUV_EINVAL;
  if (req->type == FUV_UDP_SEND)
    return req->udp != NULL ? fuv__udp_cancel_send(req->udp, req->send)
                            : FUV_EBUSY;
  if (req->type == FUV_WORK)
    return req->work != NULL ? fuv__work_cancel(req->work) : FUV_EBUSY;
  s = req->stream;
  if (s == NULL)
    return FUV_EBUSY; /* over: its callback has run or is running */
  /* A closing stream cancels every request itself, in order; cancelling
   * one now would reorder the callbacks and could restart the handle. */
  if (s->handle.flags & FUV__HANDLE_CLOSING)
    return FUV_EBUSY;
  switch (req->type) {
  case FUV_WRITE:
    return fuv__stream_cancel_write(s, req->write);
  case FUV_CONNECT:
    return s->connect_req == req ? fuv__stream_cancel_connect(s) : FUV_EBUSY;
  case FUV_SHUTDOWN:
    return s->shutdown_req == req ? fuv__stream_cancel_shutdown(s)
                                  : FUV_EBUSY;
  default:
    return FUV_EINVAL;
  }
}
