/*
 * fuv_bridge - turns host-language callables into flatuv C callbacks with
 * libffi, and owns the host references they hold.
 *
 * One table describes every callback typedef of flatuv.h: its arguments and
 * how long a registration lives. From it the bridge prepares one ffi_cif per
 * typedef, and for each registration one ffi_closure whose handler converts
 * the C arguments by signature and hands them to the host language through a
 * small hook interface (fuv_bridge_hooks_t). The table is generated from
 * the header (fuv_bridge_kinds.h, by bindings/apigen), so a new callback
 * typedef whose parameters the bridge can convert needs nothing at all.
 *
 * Lifetime. Every registration holds one host reference (a Python object, a
 * Lua registry slot, ...) and the bridge releases it exactly once:
 *  - a persistent callback (timer, async, connection, read, drain, UDP
 *    receive) when it
 *    is replaced by another of its kind on the same handle, cleared, or when
 *    the handle's close completes;
 *  - a one-shot callback (write, connect, shutdown, UDP send, close) after
 *    its single
 *    call (pending ones always run, with FUV_ECANCELED when the handle was
 *    closed first);
 *  - a scoped callback (walk) when the call that took it returns;
 *  - any registration at all when a call that took it failed, since the
 *    library then never calls it, and whatever is left when the loop is
 *    freed.
 * A registration released while its own callback runs (a read callback that
 * starts reading with another one) is released when that call returns.
 * Quiet requests (a write, connect or shutdown without a host callable,
 * see fuv_bridge_prepare_quiet) hold no host reference and no closure.
 *
 * The bridge keeps its records in the data pointers of the loop and of each
 * handle, so a binding that uses the bridge must not set those itself.
 *
 * Threads: like the loop, the bridge is used from the loop's thread only.
 */
#ifndef FUV_BRIDGE_H
#define FUV_BRIDGE_H

#include "flatuv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every callback typedef of flatuv.h, as the kinds FUV_BRIDGE_<WORD>_CB
 * (fuv_timer_cb: FUV_BRIDGE_TIMER_CB) in header order, and FUV_BRIDGE_NKINDS:
 * fuv_bridge_kinds.h, which bindings/apigen (emit_bridge.py) generates from
 * the header into the build tree, with the rows of fuv_bridge.c's table. */
#include "fuv_bridge_kinds.h"

/* What a C argument of a callback means, which decides how it is converted. */
typedef enum {
  /* The handle (or stream, tcp, ...) the callback is about: the host gets
   * the object it attached to that handle. */
  FUV_BRIDGE_ARG_HANDLE = 0,
  /* An int status: 0 or a negative FUV_E* code. */
  FUV_BRIDGE_ARG_STATUS,
  /* A ssize_t: a byte count > 0, or a negative FUV_E* code (FUV_EOF). */
  FUV_BRIDGE_ARG_NREAD,
  /* A const char * holding the preceding NREAD's bytes, or NULL. */
  FUV_BRIDGE_ARG_BYTES,
  /* The registration's void *arg, which the host never sees. */
  FUV_BRIDGE_ARG_USER,
  /* A const struct sockaddr * (a datagram's sender), converted in the
   * bridge to its text, port and family (fuv_sockaddr_ip); NULL, or a
   * family other than IPv4 and IPv6, is none: family FUV_AF_UNSPEC. */
  FUV_BRIDGE_ARG_SOCKADDR,
  /* An unsigned int of flags (FUV_UDP_PARTIAL ...), in integer. */
  FUV_BRIDGE_ARG_FLAGS
} fuv_bridge_arg_type_t;

typedef enum {
  FUV_BRIDGE_PERSISTENT = 0, /* one per handle and kind, until replaced */
  FUV_BRIDGE_ONE_SHOT,       /* released after its one call */
  FUV_BRIDGE_SCOPED          /* released when the taking call returns */
} fuv_bridge_lifetime_t;

#define FUV_BRIDGE_MAX_ARGS 6
#if FUV_BRIDGE_TABLE_MAX_ARGS > FUV_BRIDGE_MAX_ARGS
#error "a callback typedef of flatuv.h has more parameters than FUV_BRIDGE_MAX_ARGS"
#endif

/* One row of the table: a callback typedef of flatuv.h. */
typedef struct {
  const char *name; /* the typedef's name, e.g. "fuv_read_cb" */
  fuv_bridge_lifetime_t lifetime;
  unsigned nargs;
  fuv_bridge_arg_type_t args[FUV_BRIDGE_MAX_ARGS];
} fuv_bridge_signature_t;

/* Returns the row of a kind, or NULL for a value out of range. */
const fuv_bridge_signature_t *fuv_bridge_signature(int kind);
/* Returns the kind of a typedef name ("fuv_read_cb"), or -1. */
int fuv_bridge_kind_by_name(const char *name);

/* One converted argument, as the host's call hook receives it. */
typedef struct {
  fuv_bridge_arg_type_t type;
  fuv_handle_t *handle; /* HANDLE: the C handle */
  void *object;         /* HANDLE: the host object attached to it, or NULL */
  long long integer;    /* STATUS, NREAD and FLAGS */
  const char *bytes;    /* BYTES: the NREAD bytes before it (NREAD >= 0;
                           NREAD 0 is an empty datagram, given as empty
                           bytes), or NULL */
  int family;           /* SOCKADDR: FUV_AF_INET, FUV_AF_INET6, or
                           FUV_AF_UNSPEC for none (NULL) */
  int port;             /* SOCKADDR */
  char ip[FUV_IP_NAME_MAX]; /* SOCKADDR: the address as text, "" for none */
} fuv_bridge_value_t;

/* What a host language supplies. host_state is the pointer it gave to
 * fuv_bridge_loop_new(). */
typedef struct {
  /* Bracket every call that comes from the library (Python takes its GIL
   * here). Either may be NULL. Everything below, when it comes from a
   * callback, runs between the two. */
  void (*enter)(void *host_state);
  void (*leave)(void *host_state);
  /* Converts args (the signature's, less USER ones) into host values and
   * calls host_ref. host_ref is NULL for a registration made without a
   * host callable: the host then only updates its own bookkeeping. */
  void (*call)(void *host_state, fuv_bridge_kind_t kind, void *host_ref,
               const fuv_bridge_value_t *args, unsigned nargs);
  /* Drops the host reference of a registration; called exactly once for
   * every registration with a non-NULL host_ref. */
  void (*release)(void *host_state, void *host_ref);
  /* The handle the host attached host_object to is about to be freed by the
   * library (or, for a handle closed without the bridge, its loop was
   * freed): the host must forget the handle pointer. May be NULL. */
  void (*handle_freed)(void *host_state, void *host_object);
} fuv_bridge_hooks_t;

typedef struct fuv_bridge_loop_s fuv_bridge_loop_t;
typedef struct fuv_bridge_handle_s fuv_bridge_handle_t;
typedef struct fuv_bridge_reg_s fuv_bridge_reg_t;

/* ---- loops --------------------------------------------------------------- */

/* Attaches the bridge to a loop (through the loop's data pointer). hooks
 * must outlive the bridge loop. FUV_EINVAL for NULL arguments, FUV_EBUSY if
 * the loop already has a bridge, FUV_ENOMEM. */
int fuv_bridge_loop_new(fuv_bridge_loop_t **out, fuv_loop_t *loop,
                        const fuv_bridge_hooks_t *hooks, void *host_state);
/* Frees the loop with fuv_loop_free(); when that succeeds, releases every
 * registration left, tells the host about handles it still had attached,
 * and frees the bridge loop. Otherwise returns the error (FUV_EBUSY) and
 * changes nothing. */
int fuv_bridge_loop_free(fuv_bridge_loop_t *bl);
/* Returns the bridge loop attached to a loop, or NULL. */
fuv_bridge_loop_t *fuv_bridge_loop_of(const fuv_loop_t *loop);
fuv_loop_t *fuv_bridge_loop_get(const fuv_bridge_loop_t *bl);
void *fuv_bridge_loop_host_state(const fuv_bridge_loop_t *bl);
/* The number of handles attached and not yet freed, and of registrations
 * not yet released: what a host checks before freeing, and tests count. */
size_t fuv_bridge_loop_handle_count(const fuv_bridge_loop_t *bl);
size_t fuv_bridge_loop_reg_count(const fuv_bridge_loop_t *bl);

/* Calls fn(host_object, arg) for every attached handle whose host object
 * is not NULL, stopping at the first non-zero return, which it returns.
 * fn must not attach, close or free anything (a host's GC traversal). */
int fuv_bridge_loop_foreach_object(const fuv_bridge_loop_t *bl,
                                   int (*fn)(void *host_object, void *arg),
                                   void *arg);

/* ---- handles ------------------------------------------------------------- */

/* Attaches a record holding host_object to a handle of a bridged loop
 * (through the handle's data pointer). FUV_EINVAL for a NULL or closing
 * handle or a loop without a bridge, FUV_EBUSY if already attached. */
int fuv_bridge_handle_attach(fuv_handle_t *handle, void *host_object,
                             fuv_bridge_handle_t **out);
/* Returns the record of a handle, or NULL. */
fuv_bridge_handle_t *fuv_bridge_handle_of(const fuv_handle_t *handle);
fuv_handle_t *fuv_bridge_handle_get(const fuv_bridge_handle_t *rec);
void *fuv_bridge_handle_object(const fuv_bridge_handle_t *rec);
/* Replaces the host object; NULL detaches the host (its callbacks are then
 * still released but no longer called with an object). */
void fuv_bridge_handle_set_object(fuv_bridge_handle_t *rec, void *host_object);
/* The number of requests (one-shot registrations other than close:
 * connect, write, shutdown, ...) committed on this handle whose callback
 * has not started yet, quiet ones (fuv_bridge_prepare_quiet,
 * fuv_bridge_write) included. A host keeps its object alive while it is
 * non-zero, so that a request never completes on an object already
 * collected, and a write accepted on a dropped handle still goes out (see
 * fuv_bridge_handle_must_live). */
size_t fuv_bridge_handle_requests(const fuv_bridge_handle_t *rec);
/* The lifetime rule every binding keeps, in one place: 1 if the host
 * object attached to this handle must stay alive without user references,
 * because the handle is active (a running timer, a reading or listening
 * stream, a connect or queued write in progress ...), closing, or has
 * requests pending (fuv_bridge_handle_requests); 0 for an idle open
 * handle, which the host may close once nobody references it, and for
 * NULL. A host re-checks it after every call that may change it and after
 * every callback (the call hook: a request's completion, even a quiet
 * one's when the answer may have become 0, comes through it). */
int fuv_bridge_handle_must_live(const fuv_handle_t *handle);
/* Returns 1 if the handle has a persistent registration of this kind. */
int fuv_bridge_handle_has(const fuv_bridge_handle_t *rec,
                          fuv_bridge_kind_t kind);
/* Releases the handle's persistent registration of this kind, if any (for
 * example after read_stop). The library must no longer call it. */
void fuv_bridge_clear(fuv_bridge_handle_t *rec, fuv_bridge_kind_t kind);

/* ---- registrations ------------------------------------------------------- */

/*
 * A registration goes through two steps around the library call that takes
 * the callback:
 *
 *     fuv_bridge_reg_t *reg;
 *     void (*fn)(void);
 *     fuv_bridge_prepare(bl, FUV_BRIDGE_READ_CB, host_ref, &reg, &fn);
 *     r = fuv_read_start(stream, (fuv_read_cb)fn, NULL);
 *     if (r == 0) fuv_bridge_commit(reg, (fuv_handle_t *)stream);
 *     else fuv_bridge_discard(reg);
 *
 * The library calls fn only from fuv_run() (or, for walk, from fuv_walk()),
 * never inside the taking call, so nothing runs before the commit.
 */

/* Makes a closure for host_ref (may be NULL: see the call hook) of the
 * given kind and stores its C entry point, to be cast to the kind's
 * typedef, in *fn. FUV_EINVAL for a bad kind, FUV_ENOMEM. On error the
 * host reference stays the caller's. */
int fuv_bridge_prepare(fuv_bridge_loop_t *bl, fuv_bridge_kind_t kind,
                       void *host_ref, fuv_bridge_reg_t **out,
                       void (**fn)(void));
/* The taking call succeeded: the registration now belongs to owner, which
 * must be attached. A persistent one replaces (and releases) the owner's
 * previous one of its kind; a one-shot one other than close counts as a
 * request pending on owner (fuv_bridge_handle_requests) until its callback
 * starts; a close registration also tells the bridge when the handle is
 * freed; a scoped one is released, its call being over (owner may then be
 * NULL). */
void fuv_bridge_commit(fuv_bridge_reg_t *reg, fuv_handle_t *owner);
/* The taking call failed, or a scoped call returned: releases now. */
void fuv_bridge_discard(fuv_bridge_reg_t *reg);
/* The kind a registration was prepared for. */
fuv_bridge_kind_t fuv_bridge_reg_kind(const fuv_bridge_reg_t *reg);

/* ---- quiet requests ------------------------------------------------------ */

/*
 * A request made without a host callable (a write, connect or shutdown
 * given no callback) still counts as pending on its handle until the
 * library completes it, so that the host keeps its object (and the handle)
 * alive meanwhile: a dropped handle's accepted writes go out. It needs no
 * closure and no host reference, only a plain C completion function of the
 * bridge:
 *
 *     fuv_bridge_prepare_quiet(bl, FUV_BRIDGE_WRITE_CB, &reg, &fn);
 *     r = fuv_write(stream, data, len, (fuv_write_cb)fn, NULL);
 *     if (r == 0) fuv_bridge_commit(reg, (fuv_handle_t *)stream);
 *     else fuv_bridge_discard(reg);
 *
 * *out is a registration shared by every quiet request of its kind on the
 * loop: fuv_bridge_commit() counts one request pending on the owner,
 * fuv_bridge_discard() does nothing, and it is never released (it is not
 * among fuv_bridge_loop_reg_count's). The function must be passed with a
 * NULL arg and the handle must be attached. When the request completes
 * (with FUV_ECANCELED if the handle was closed first), the count drops
 * and, only if the handle may then be let go (fuv_bridge_handle_must_live
 * returns 0) and has a host object, the host hears of it through enter,
 * call (kind, host_ref NULL, the handle and the status) and leave, to
 * re-check its rule. A request whose handle stays needed (a reading
 * stream's write) thus costs the host nothing at all.
 * FUV_EINVAL for a kind that is not a request's (write, connect, pipe
 * connect, shutdown, UDP send) or NULL arguments.
 */
int fuv_bridge_prepare_quiet(fuv_bridge_loop_t *bl, fuv_bridge_kind_t kind,
                             fuv_bridge_reg_t **out, void (**fn)(void));
/* fuv_write / fuv_writev as a quiet request, in one call: what a binding's
 * fast path uses for a write with no callback. The stream must be attached
 * (FUV_EINVAL otherwise); other errors are fuv_writev's, and a failed write
 * counts nothing. */
int fuv_bridge_write(fuv_stream_t *stream, const char *data, size_t len);
int fuv_bridge_writev(fuv_stream_t *stream, const char *const *bufs,
                      const size_t *lens, size_t nbufs);

#ifdef __cplusplus
}
#endif

#endif /* FUV_BRIDGE_H */
