/* The libffi callback bridge: see fuv_bridge.h for the contract. */
#include "fuv_bridge.h"

#include <ffi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* ---- the table of callback typedefs ------------------------------------- */

/* One row per typedef of flatuv.h, in fuv_bridge_kind_t order, generated
 * with the kinds (fuv_bridge_kinds.h). A test parses the header and checks
 * every typedef against this table. */
static const fuv_bridge_signature_t signatures[FUV_BRIDGE_NKINDS] = {
    FUV_BRIDGE_SIGNATURE_ROWS};

const fuv_bridge_signature_t *fuv_bridge_signature(int kind) {
  if (kind < 0 || kind >= FUV_BRIDGE_NKINDS)
    return NULL;
  return &signatures[kind];
}

int fuv_bridge_kind_by_name(const char *name) {
  if (name == NULL)
    return -1;
  for (int k = 0; k < FUV_BRIDGE_NKINDS; k++)
    if (strcmp(signatures[k].name, name) == 0)
      return k;
  return -1;
}

/* One ffi_cif per typedef, prepared once for the whole process. */
static ffi_cif cifs[FUV_BRIDGE_NKINDS];
static ffi_type *cif_args[FUV_BRIDGE_NKINDS][FUV_BRIDGE_MAX_ARGS];
static int cifs_status = FUV_EINVAL;
static pthread_once_t cifs_once = PTHREAD_ONCE_INIT;

static ffi_type *ffi_type_of(fuv_bridge_arg_type_t type) {
  switch (type) {
  case FUV_BRIDGE_ARG_STATUS:
    return &ffi_type_sint;
  case FUV_BRIDGE_ARG_NREAD:
    return sizeof(ssize_t) == sizeof(long) ? &ffi_type_slong
                                           : &ffi_type_sint;
  case FUV_BRIDGE_ARG_FLAGS:
    return &ffi_type_uint;
  default:
    return &ffi_type_pointer;
  }
}

static void prepare_cifs(void) {
  for (int k = 0; k < FUV_BRIDGE_NKINDS; k++) {
    const fuv_bridge_signature_t *sig = &signatures[k];
    for (unsigned i = 0; i < sig->nargs; i++)
      cif_args[k][i] = ffi_type_of(sig->args[i]);
    if (ffi_prep_cif(&cifs[k], FFI_DEFAULT_ABI, sig->nargs, &ffi_type_void,
                     cif_args[k]) != FFI_OK) {
      cifs_status = FUV_EINVAL;
      return;
    }
  }
  cifs_status = 0;
}

/* ---- records ------------------------------------------------------------- */

#define HANDLE_MAGIC 0x62726448u /* "brdH" */
#define LOOP_MAGIC 0x6272644cu   /* "brdL" */

/* Freed registrations kept per loop with their closure, for reuse: a
 * server that writes with a callback then allocates no closure per write. */
#define MAX_POOLED_REGS 256

struct fuv_bridge_reg_s {
  ffi_closure *closure;
  void *code; /* the closure's C entry point */
  fuv_bridge_loop_t *bl;
  fuv_bridge_handle_t *owner; /* persistent ones: whose slot holds it */
  /* Requests: the handle on whose list of pending requests it is. */
  fuv_bridge_handle_t *requester;
  fuv_bridge_reg_t *req_prev, *req_next;
  fuv_bridge_kind_t kind;
  void *host_ref;
  unsigned running;          /* calls of this registration in progress */
  int release_requested;     /* released while running: finish afterwards */
  int quiet;                 /* the loop's shared one for quiet requests */
  fuv_bridge_reg_t *prev, *next; /* on bl->regs, or the pool (next only) */
};

struct fuv_bridge_handle_s {
  uint32_t magic;
  fuv_bridge_loop_t *bl;
  fuv_handle_t *handle;
  void *object;
  fuv_bridge_reg_t *slots[FUV_BRIDGE_NKINDS]; /* persistent registrations */
  fuv_bridge_reg_t *requests; /* one-shot ones whose callback has not run */
  size_t nrequests;
  size_t nquiet; /* quiet requests not yet completed */
  fuv_bridge_handle_t *prev, *next;           /* on bl->handles */
};

struct fuv_bridge_loop_s {
  uint32_t magic;
  fuv_loop_t *loop;
  const fuv_bridge_hooks_t *hooks;
  void *host_state;
  fuv_bridge_handle_t *handles; /* attached, not yet freed */
  size_t nhandles;
  fuv_bridge_reg_t *regs; /* prepared, not yet released */
  size_t nregs;
  fuv_bridge_reg_t *pool;
  size_t npool;
  fuv_bridge_reg_t quiet[FUV_BRIDGE_NKINDS]; /* see fuv_bridge_prepare_quiet */
};

/* Doubly linked lists with a head pointer, through the link fields named
 * (prev/next for the loop's lists of regs and handle records, req_prev /
 * req_next for a handle's pending requests). */
#define LIST_INSERT_VIA(head, node, prev, next)                              \
  do {                                                                       \
    (node)->prev = NULL;                                                     \
    (node)->next = (head);                                                   \
    if ((head) != NULL)                                                      \
      (head)->prev = (node);                                                 \
    (head) = (node);                                                         \
  } while (0)

#define LIST_REMOVE_VIA(head, node, prev, next)                              \
  do {                                                                       \
    if ((node)->prev != NULL)                                                \
      (node)->prev->next = (node)->next;                                     \
    else                                                                     \
      (head) = (node)->next;                                                 \
    if ((node)->next != NULL)                                                \
      (node)->next->prev = (node)->prev;                                     \
    (node)->prev = (node)->next = NULL;                                      \
  } while (0)

#define LIST_INSERT(head, node) LIST_INSERT_VIA(head, node, prev, next)
#define LIST_REMOVE(head, node) LIST_REMOVE_VIA(head, node, prev, next)

/* ---- loops --------------------------------------------------------------- */

int fuv_bridge_loop_new(fuv_bridge_loop_t **out, fuv_loop_t *loop,
                        const fuv_bridge_hooks_t *hooks, void *host_state) {
  fuv_bridge_loop_t *bl;

  if (out == NULL)
    return FUV_EINVAL;
  *out = NULL;
  if (loop == NULL || hooks == NULL || hooks->call == NULL)
    return FUV_EINVAL;
  pthread_once(&cifs_once, prepare_cifs);
  if (cifs_status != 0)
    return cifs_status;
  if (fuv_loop_get_data(loop) != NULL)
    return FUV_EBUSY;
  bl = calloc(1, sizeof *bl);
  if (bl == NULL)
    return FUV_ENOMEM;
  bl->magic = LOOP_MAGIC;
  bl->loop = loop;
  bl->hooks = hooks;
  bl->host_state = host_state;
  fuv_loop_set_data(loop, bl);
  *out = bl;
  return 0;
}

fuv_bridge_loop_t *fuv_bridge_loop_of(const fuv_loop_t *loop) {
  fuv_bridge_loop_t *bl = fuv_loop_get_data(loop);
  return bl != NULL && bl->magic == LOOP_MAGIC ? bl : NULL;
}

fuv_loop_t *fuv_bridge_loop_get(const fuv_bridge_loop_t *bl) {
  return bl != NULL ? bl->loop : NULL;
}

void *fuv_bridge_loop_host_state(const fuv_bridge_loop_t *bl) {
  return bl != NULL ? bl->host_state : NULL;
}

size_t fuv_bridge_loop_handle_count(const fuv_bridge_loop_t *bl) {
  return bl != NULL ? bl->nhandles : 0;
}

size_t fuv_bridge_loop_reg_count(const fuv_bridge_loop_t *bl) {
  return bl != NULL ? bl->nregs : 0;
}

int fuv_bridge_loop_foreach_object(const fuv_bridge_loop_t *bl,
                                   int (*fn)(void *host_object, void *arg),
                                   void *arg) {
  if (bl == NULL || fn == NULL)
    return 0;
  for (const fuv_bridge_handle_t *rec = bl->handles; rec != NULL;
       rec = rec->next) {
    if (rec->object != NULL) {
      int r = fn(rec->object, arg);
      if (r != 0)
        return r;
    }
  }
  return 0;
}

static void reg_destroy(fuv_bridge_reg_t *reg) {
  ffi_closure_free(reg->closure);
  free(reg);
}

static void release_reg(fuv_bridge_reg_t *reg);

/* A request's callback has started (or will never run): it no longer
 * counts as pending on its handle. */
static void request_done(fuv_bridge_reg_t *reg) {
  fuv_bridge_handle_t *rec = reg->requester;
  if (rec == NULL)
    return;
  LIST_REMOVE_VIA(rec->requests, reg, req_prev, req_next);
  reg->requester = NULL;
  rec->nrequests--;
}

static void request_add(fuv_bridge_reg_t *reg, fuv_bridge_handle_t *rec) {
  reg->requester = rec;
  LIST_INSERT_VIA(rec->requests, reg, req_prev, req_next);
  rec->nrequests++;
}

static void handle_record_free(fuv_bridge_handle_t *rec) {
  fuv_bridge_loop_t *bl = rec->bl;
  void *object = rec->object;

  /* The library completes requests before the close callback, so none
   * should be left; if one is, it must not point at the freed record. */
  while (rec->requests != NULL)
    request_done(rec->requests);
  for (int k = 0; k < FUV_BRIDGE_NKINDS; k++)
    if (rec->slots[k] != NULL)
      release_reg(rec->slots[k]);
  LIST_REMOVE(bl->handles, rec);
  bl->nhandles--;
  rec->magic = 0;
  free(rec);
  /* Last, so that whatever the host does here sees consistent records. */
  if (object != NULL && bl->hooks->handle_freed != NULL)
    bl->hooks->handle_freed(bl->host_state, object);
}

int fuv_bridge_loop_free(fuv_bridge_loop_t *bl) {
  int r;

  if (bl == NULL || bl->magic != LOOP_MAGIC)
    return FUV_EINVAL;
  r = fuv_loop_free(bl->loop);
  if (r != 0)
    return r;
  /* Handles closed without the bridge, and registrations the library will
   * never call now: release what they hold. */
  while (bl->handles != NULL)
    handle_record_free(bl->handles);
  while (bl->regs != NULL)
    release_reg(bl->regs);
  while (bl->pool != NULL) {
    fuv_bridge_reg_t *reg = bl->pool;
    bl->pool = reg->next;
    reg_destroy(reg);
  }
  bl->magic = 0;
  free(bl);
  return 0;
}

/* ---- handles ------------------------------------------------------------- */

int fuv_bridge_handle_attach(fuv_handle_t *handle, void *host_object,
                             fuv_bridge_handle_t **out) {
  fuv_bridge_loop_t *bl;
  fuv_bridge_handle_t *rec;

  if (out != NULL)
    *out = NULL;
  if (handle == NULL || fuv_is_closing(handle))
    return FUV_EINVAL;
  bl = fuv_bridge_loop_of(fuv_handle_loop(handle));
  if (bl == NULL)
    return FUV_EINVAL;
  if (fuv_handle_get_data(handle) != NULL)
    return FUV_EBUSY;
  rec = calloc(1, sizeof *rec);
  if (rec == NULL)
    return FUV_ENOMEM;
  rec->magic = HANDLE_MAGIC;
  rec->bl = bl;
  rec->handle = handle;
  rec->object = host_object;
  LIST_INSERT(bl->handles, rec);
  bl->nhandles++;
  fuv_handle_set_data(handle, rec);
  if (out != NULL)
    *out = rec;
  return 0;
}

fuv_bridge_handle_t *fuv_bridge_handle_of(const fuv_handle_t *handle) {
  fuv_bridge_handle_t *rec = fuv_handle_get_data(handle);
  return rec != NULL && rec->magic == HANDLE_MAGIC ? rec : NULL;
}

fuv_handle_t *fuv_bridge_handle_get(const fuv_bridge_handle_t *rec) {
  return rec != NULL ? rec->handle : NULL;
}

void *fuv_bridge_handle_object(const fuv_bridge_handle_t *rec) {
  return rec != NULL ? rec->object : NULL;
}

void fuv_bridge_handle_set_object(fuv_bridge_handle_t *rec, void *host_object) {
  if (rec != NULL)
    rec->object = host_object;
}

size_t fuv_bridge_handle_requests(const fuv_bridge_handle_t *rec) {
  return rec != NULL ? rec->nrequests + rec->nquiet : 0;
}

int fuv_bridge_handle_must_live(const fuv_handle_t *handle) {
  const fuv_bridge_handle_t *rec;
  if (handle == NULL)
    return 0;
  if (fuv_is_active(handle) || fuv_is_closing(handle))
    return 1;
  rec = fuv_bridge_handle_of(handle);
  return rec != NULL && rec->nrequests + rec->nquiet > 0;
}

int fuv_bridge_handle_has(const fuv_bridge_handle_t *rec,
                          fuv_bridge_kind_t kind) {
  if (rec == NULL || (int)kind < 0 || kind >= FUV_BRIDGE_NKINDS)
    return 0;
  return rec->slots[kind] != NULL;
}

void fuv_bridge_clear(fuv_bridge_handle_t *rec, fuv_bridge_kind_t kind) {
  if (rec == NULL || (int)kind < 0 || kind >= FUV_BRIDGE_NKINDS)
    return;
  if (rec->slots[kind] != NULL)
    release_reg(rec->slots[kind]);
}

/* ---- registrations ------------------------------------------------------- */

/* Drops a registration: out of its owner's slot and the loop's list, the
 * host reference released, the closure pooled. Deferred while it runs. */
static void release_reg(fuv_bridge_reg_t *reg) {
  fuv_bridge_loop_t *bl = reg->bl;
  void *host_ref = reg->host_ref;

  if (reg->owner != NULL) {
    if (reg->owner->slots[reg->kind] == reg)
      reg->owner->slots[reg->kind] = NULL;
    reg->owner = NULL;
  }
  request_done(reg);
  if (reg->running > 0) {
    reg->release_requested = 1;
    return;
  }
  LIST_REMOVE(bl->regs, reg);
  bl->nregs--;
  reg->host_ref = NULL;
  reg->release_requested = 0;
  if (bl->npool < MAX_POOLED_REGS) {
    reg->next = bl->pool;
    bl->pool = reg;
    bl->npool++;
  } else {
    reg_destroy(reg);
  }
  /* Last: releasing may run host code that registers or closes again. */
  if (host_ref != NULL)
    bl->hooks->release(bl->host_state, host_ref);
}

static void handler(ffi_cif *cif, void *ret, void **args, void *user);

int fuv_bridge_prepare(fuv_bridge_loop_t *bl, fuv_bridge_kind_t kind,
                       void *host_ref, fuv_bridge_reg_t **out,
                       void (**fn)(void)) {
  fuv_bridge_reg_t *reg;

  if (out != NULL)
    *out = NULL;
  if (fn != NULL)
    *fn = NULL;
  if (bl == NULL || bl->magic != LOOP_MAGIC || out == NULL || fn == NULL ||
      (int)kind < 0 || kind >= FUV_BRIDGE_NKINDS)
    return FUV_EINVAL;
  if (bl->pool != NULL) {
    reg = bl->pool;
    bl->pool = reg->next;
    bl->npool--;
  } else {
    reg = calloc(1, sizeof *reg);
    if (reg == NULL)
      return FUV_ENOMEM;
    reg->closure = ffi_closure_alloc(sizeof(ffi_closure), &reg->code);
    if (reg->closure == NULL) {
      free(reg);
      return FUV_ENOMEM;
    }
  }
  if (ffi_prep_closure_loc(reg->closure, &cifs[kind], handler, reg,
                           reg->code) != FFI_OK) {
    reg_destroy(reg);
    return FUV_ENOMEM;
  }
  reg->bl = bl;
  reg->owner = NULL;
  reg->requester = NULL;
  reg->req_prev = reg->req_next = NULL;
  reg->kind = kind;
  reg->host_ref = host_ref;
  reg->running = 0;
  reg->release_requested = 0;
  LIST_INSERT(bl->regs, reg);
  bl->nregs++;
  *out = reg;
  /* The usual way to turn libffi's entry point into a function pointer;
   * POSIX guarantees object and function pointers convert losslessly. */
  memcpy(fn, &reg->code, sizeof *fn);
  return 0;
}

void fuv_bridge_commit(fuv_bridge_reg_t *reg, fuv_handle_t *owner) {
  fuv_bridge_handle_t *rec;

  if (reg == NULL)
    return;
  if (reg->quiet) {
    rec = fuv_bridge_handle_of(owner);
    if (rec != NULL)
      rec->nquiet++;
    return;
  }
  if (signatures[reg->kind].lifetime == FUV_BRIDGE_SCOPED) {
    release_reg(reg); /* the taking call has returned */
    return;
  }
  /* Only a persistent registration belongs to its handle's slot; the
   * others find their handle through the callback's arguments, and a
   * request is counted as pending on its handle until it runs. */
  rec = fuv_bridge_handle_of(owner);
  if (rec == NULL)
    return;
  if (signatures[reg->kind].lifetime == FUV_BRIDGE_ONE_SHOT) {
    if (reg->kind != FUV_BRIDGE_CLOSE_CB && reg->requester == NULL)
      request_add(reg, rec);
    return;
  }
  reg->owner = rec;
  if (rec->slots[reg->kind] != NULL && rec->slots[reg->kind] != reg)
    release_reg(rec->slots[reg->kind]);
  rec->slots[reg->kind] = reg;
}

void fuv_bridge_discard(fuv_bridge_reg_t *reg) {
  if (reg != NULL && !reg->quiet)
    release_reg(reg);
}

fuv_bridge_kind_t fuv_bridge_reg_kind(const fuv_bridge_reg_t *reg) {
  return reg != NULL ? reg->kind : FUV_BRIDGE_NKINDS;
}

/* A sockaddr as the host gets it: text, port and family, or none. */
static void sockaddr_value(fuv_bridge_value_t *v, const struct sockaddr *sa) {
  v->family = FUV_AF_UNSPEC;
  v->ip[0] = '\0';
  v->port = 0;
  if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
    return;
  if (fuv_sockaddr_ip(sa, v->ip, sizeof v->ip, &v->port) != 0) {
    v->ip[0] = '\0';
    v->port = 0;
    return;
  }
  v->family = sa->sa_family == AF_INET ? FUV_AF_INET : FUV_AF_INET6;
}

/* Every closure lands here: convert the C arguments by the kind's
 * signature, let the host call its callable, then apply the lifetime. */
static void handler(ffi_cif *cif, void *ret, void **args, void *user) {
  fuv_bridge_reg_t *reg = user;
  fuv_bridge_loop_t *bl = reg->bl;
  const fuv_bridge_signature_t *sig = &signatures[reg->kind];
  fuv_bridge_value_t values[FUV_BRIDGE_MAX_ARGS];
  fuv_bridge_handle_t *closed = NULL;
  unsigned n = 0;

  (void)cif;
  (void)ret;
  if (bl->hooks->enter != NULL)
    bl->hooks->enter(bl->host_state);

  for (unsigned i = 0; i < sig->nargs; i++) {
    fuv_bridge_value_t *v = &values[n];
    memset(v, 0, sizeof *v);
    v->type = sig->args[i];
    switch (sig->args[i]) {
    case FUV_BRIDGE_ARG_HANDLE:
      v->handle = *(fuv_handle_t **)args[i];
      v->object = fuv_bridge_handle_object(fuv_bridge_handle_of(v->handle));
      break;
    case FUV_BRIDGE_ARG_STATUS:
      v->integer = *(int *)args[i];
      break;
    case FUV_BRIDGE_ARG_NREAD:
      v->integer = (long long)*(ssize_t *)args[i];
      break;
    case FUV_BRIDGE_ARG_BYTES:
      v->bytes = *(const char **)args[i];
      break;
    case FUV_BRIDGE_ARG_SOCKADDR:
      sockaddr_value(v, *(const struct sockaddr **)args[i]);
      break;
    case FUV_BRIDGE_ARG_FLAGS:
      v->integer = (long long)*(unsigned int *)args[i];
      break;
    case FUV_BRIDGE_ARG_USER:
      continue;
    }
    n++;
  }

  /* A close callback is the handle's last: the record goes with it. */
  if (reg->kind == FUV_BRIDGE_CLOSE_CB && n > 0)
    closed = fuv_bridge_handle_of(values[0].handle);

  /* The request is over once its callback starts: the host, which then
   * holds the handle's object for the call, may let go of it after. */
  request_done(reg);
  reg->running++;
  if (!reg->release_requested)
    bl->hooks->call(bl->host_state, reg->kind, reg->host_ref, values, n);
  reg->running--;

  if (closed != NULL)
    handle_record_free(closed);
  if (reg->running == 0 &&
      (reg->release_requested || sig->lifetime == FUV_BRIDGE_ONE_SHOT))
    release_reg(reg);

  if (bl->hooks->leave != NULL)
    bl->hooks->leave(bl->host_state);
}

/* ---- quiet requests ------------------------------------------------------- */

/* A quiet request of this handle has completed: one less pending, and the
 * host re-checks its rule only when the answer may have become "let go". */
static void quiet_done(fuv_handle_t *handle, fuv_bridge_kind_t kind,
                       int status) {
  fuv_bridge_handle_t *rec = fuv_bridge_handle_of(handle);
  fuv_bridge_loop_t *bl;
  fuv_bridge_value_t values[2];

  if (rec == NULL)
    return;
  if (rec->nquiet > 0)
    rec->nquiet--;
  if (rec->object == NULL || fuv_bridge_handle_must_live(handle))
    return;
  bl = rec->bl;
  if (bl->hooks->enter != NULL)
    bl->hooks->enter(bl->host_state);
  /* Read after enter, which may run host code (Python's deferred closes). */
  memset(values, 0, sizeof values);
  values[0].type = FUV_BRIDGE_ARG_HANDLE;
  values[0].handle = handle;
  values[0].object = rec->object;
  values[1].type = FUV_BRIDGE_ARG_STATUS;
  values[1].integer = status;
  if (values[0].object != NULL)
    bl->hooks->call(bl->host_state, kind, NULL, values, 2);
  if (bl->hooks->leave != NULL)
    bl->hooks->leave(bl->host_state);
}

static void quiet_write(fuv_stream_t *stream, int status, void *arg) {
  (void)arg;
  quiet_done((fuv_handle_t *)stream, FUV_BRIDGE_WRITE_CB, status);
}

static void quiet_connect(fuv_tcp_t *tcp, int status, void *arg) {
  (void)arg;
  quiet_done((fuv_handle_t *)tcp, FUV_BRIDGE_CONNECT_CB, status);
}

static void quiet_pipe_connect(fuv_pipe_t *pipe, int status, void *arg) {
  (void)arg;
  quiet_done((fuv_handle_t *)pipe, FUV_BRIDGE_PIPE_CONNECT_CB, status);
}

static void quiet_shutdown(fuv_stream_t *stream, int status, void *arg) {
  (void)arg;
  quiet_done((fuv_handle_t *)stream, FUV_BRIDGE_SHUTDOWN_CB, status);
}

static void quiet_udp_send(fuv_udp_t *udp, int status, void *arg) {
  (void)arg;
  quiet_done((fuv_handle_t *)udp, FUV_BRIDGE_UDP_SEND_CB, status);
}

int fuv_bridge_prepare_quiet(fuv_bridge_loop_t *bl, fuv_bridge_kind_t kind,
                             fuv_bridge_reg_t **out, void (**fn)(void)) {
  fuv_bridge_reg_t *reg;

  if (out != NULL)
    *out = NULL;
  if (fn != NULL)
    *fn = NULL;
  if (bl == NULL || bl->magic != LOOP_MAGIC || out == NULL || fn == NULL)
    return FUV_EINVAL;
  switch (kind) {
  case FUV_BRIDGE_WRITE_CB:
    *fn = (void (*)(void))quiet_write;
    break;
  case FUV_BRIDGE_CONNECT_CB:
    *fn = (void (*)(void))quiet_connect;
    break;
  case FUV_BRIDGE_SHUTDOWN_CB:
    *fn = (void (*)(void))quiet_shutdown;
    break;
  case FUV_BRIDGE_PIPE_CONNECT_CB:
    *fn = (void (*)(void))quiet_pipe_connect;
    break;
  case FUV_BRIDGE_UDP_SEND_CB:
    *fn = (void (*)(void))quiet_udp_send;
    break;
  default:
    return FUV_EINVAL;
  }
  reg = &bl->quiet[kind];
  reg->bl = bl;
  reg->kind = kind;
  reg->quiet = 1;
  *out = reg;
  return 0;
}

int fuv_bridge_writev(fuv_stream_t *stream, const char *const *bufs,
                      const size_t *lens, size_t nbufs) {
  fuv_bridge_handle_t *rec = fuv_bridge_handle_of((fuv_handle_t *)stream);
  int r;

  if (rec == NULL)
    return FUV_EINVAL;
  r = fuv_writev(stream, bufs, lens, nbufs, quiet_write, NULL);
  if (r == 0)
    rec->nquiet++; /* the library never completes it inside the call */
  return r;
}

int fuv_bridge_write(fuv_stream_t *stream, const char *data, size_t len) {
  return fuv_bridge_writev(stream, &data, &len, 1);
}
