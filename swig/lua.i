/*
 * lua.i - the Lua part of the flatuv interface (SWIGLUA only).
 *
 * SWIG generates the C module `flatuv.raw` from flatuv.i with these
 * typemaps; bindings/lua/flatuv.lua arranges its functions into luv's
 * style (uv.new_tcp(), tcp:bind(host, port), ...). The raw functions are
 * already usable as methods: they take the handle first, return luv's
 * `nil, "ECONNREFUSED: connection refused", "ECONNREFUSED"` on failure and
 * raise a Lua error naming the argument when an argument has the wrong type.
 *
 * The typemaps call the Lua runtime in bindings/lua/src (flatuv_lua.h
 * describes it): the per-state context and its one loop, handle boxes and
 * their lifetime rule, callbacks through the bridge, the run, addresses.
 * This file holds only typemaps, names and the few declarations SWIG
 * wraps.
 */

%{
#include "flatuv_lua.h"

/* SWIG's own count check names no argument. Missing arguments are left to
 * the typemaps, which report "bad argument #n to 'f' (... expected, got no
 * value)"; one too many is an error at its position, since it usually
 * means a call the script did not intend. */
#undef SWIG_check_num_args
#define SWIG_check_num_args(func_name, a, b)                                  \
  if (lua_gettop(L) > (b))                                                   \
    luaL_argerror(L, (b) + 1, "no more arguments expected");
%}

%init %{
  fuvlua_init(L);
%}

%native(_metatables) int fuvlua_metatables(lua_State *L);
%native(_stats) int fuvlua_stats(lua_State *L);
%native(is_handle) int fuvlua_is_handle(lua_State *L);

/* ---- names ------------------------------------------------------------------ */

/* fuv_tcp_bind -> tcp_bind, FUV_ECONNREFUSED -> ECONNREFUSED. */
%rename("%(regex:/^(fuv_|FUV_)(.*)/\\2/)s") "";

/* The module owns its loop and the bridge owns the data pointers. A script
 * keeps its own data in tables keyed by handle, or in closures. */
%ignore fuv_loop_new;
%ignore fuv_loop_get_data;
%ignore fuv_loop_set_data;
%ignore fuv_handle_get_data;
%ignore fuv_handle_set_data;
%ignore fuv_handle_loop;
%rename(loop_close) fuv_loop_free;
/* luv's names where they differ. */
%rename(get_type) fuv_handle_type;
%rename(get_write_queue_size) fuv_write_queue_size;

/* ---- typemaps: handles ------------------------------------------------------ */

%define FUVLUA_HANDLE_TYPEMAPS(CTYPE, WANT, EXPECTED)
%typemap(in) CTYPE * (fuvlua_box *box = NULL), const CTYPE * (fuvlua_box *box = NULL) %{
  box = fuvlua_check_box(L, $input, WANT, EXPECTED);
  $1 = ($1_ltype)box->handle;
%}
/* A call may have started or ended activity: re-anchor (getters are const
 * and skip this). */
%typemap(argout) CTYPE * %{
  fuvlua_box_sync(L, box$argnum, $input);
%}
%typemap(argout) const CTYPE * ""

%enddef

FUVLUA_HANDLE_TYPEMAPS(fuv_handle_t, FUVLUA_ANY, "flatuv handle")
FUVLUA_HANDLE_TYPEMAPS(fuv_stream_t, FUVLUA_STREAM, "flatuv stream")
FUVLUA_HANDLE_TYPEMAPS(fuv_tcp_t, FUV_TCP, "flatuv.tcp")
FUVLUA_HANDLE_TYPEMAPS(fuv_timer_t, FUV_TIMER, "flatuv.timer")
FUVLUA_HANDLE_TYPEMAPS(fuv_async_t, FUV_ASYNC, "flatuv.async")

/* The loop is the state's own. */
%typemap(in, numinputs=0) fuv_loop_t *, const fuv_loop_t * %{
  $1 = fuvlua_loop(L);
%}

/* Constructors and accept return the new handle. */
%define FUVLUA_NEW_HANDLE(CTYPE, KIND)
%typemap(in, numinputs=0) CTYPE ** (CTYPE *created = NULL) %{
  $1 = &created;
%}
%typemap(argout) CTYPE ** %{
  if (result == 0) {
    fuvlua_box_new(L, (fuv_handle_t *)created$argnum, KIND);
    SWIG_arg++;
  }
%}
%enddef
FUVLUA_NEW_HANDLE(fuv_tcp_t, FUV_TCP)
FUVLUA_NEW_HANDLE(fuv_timer_t, FUV_TIMER)
FUVLUA_NEW_HANDLE(fuv_async_t, FUV_ASYNC)

%typemap(out) int fuv_tcp_new, int fuv_tcp_new_ex, int fuv_timer_new,
              int fuv_async_new, int fuv_accept, int fuv_accept_sync %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
%}

/* ---- typemaps: callbacks ------------------------------------------------------ */

/* The registration's arg is never needed: the bridge's closure knows it. */
%typemap(in, numinputs=0) void *CALLBACK_ARG %{
  $1 = NULL;
%}

/* KIND: the bridge's kind; OPTIONAL: nil allowed; OWNER: the handle it
 * belongs to, and OWNER_BOX its userdata if it exists before the call. The function is checked first and registered last (in the
 * check typemap), after every other argument is known to be good, so that
 * no argument error can leave a registration behind. */
%define FUVLUA_CALLBACK(CTYPE, NAME, KIND, OPTIONAL, OWNER, OWNER_BOX)
%typemap(in) CTYPE NAME (fuv_bridge_reg_t *reg = NULL, fuvlua_ref *ref = NULL,
                         int cbarg = 0) %{
  fuvlua_check_callback(L, $input, OPTIONAL);
  cbarg = $input;
%}
%typemap(check) CTYPE NAME %{
  $1 = ($1_ltype)fuvlua_prepare(L, cbarg$argnum, KIND, 0, OWNER_BOX, &reg$argnum,
                                &ref$argnum);
%}
%typemap(argout) CTYPE NAME %{
  fuvlua_settle(L, cbarg$argnum, KIND, reg$argnum, ref$argnum, result,
                (fuv_handle_t *)(OWNER), 0);
%}
%enddef

FUVLUA_CALLBACK(fuv_close_cb, cb, FUV_BRIDGE_CLOSE_CB, 1, arg1, NULL)
FUVLUA_CALLBACK(fuv_walk_cb, cb, FUV_BRIDGE_WALK_CB, 0, NULL, NULL)
FUVLUA_CALLBACK(fuv_timer_cb, cb, FUV_BRIDGE_TIMER_CB, 0, arg1, box1)
FUVLUA_CALLBACK(fuv_async_cb, cb, FUV_BRIDGE_ASYNC_CB, 0, created1, NULL)
FUVLUA_CALLBACK(fuv_connection_cb, cb, FUV_BRIDGE_CONNECTION_CB, 1, arg1, box1)
FUVLUA_CALLBACK(fuv_read_cb, cb, FUV_BRIDGE_READ_CB, 0, arg1, box1)
FUVLUA_CALLBACK(fuv_write_cb, cb, FUV_BRIDGE_WRITE_CB, 1, arg1, NULL)
FUVLUA_CALLBACK(fuv_connect_cb, cb, FUV_BRIDGE_CONNECT_CB, 1, arg1, NULL)
FUVLUA_CALLBACK(fuv_shutdown_cb, cb, FUV_BRIDGE_SHUTDOWN_CB, 1, arg1, NULL)
FUVLUA_CALLBACK(fuv_drain_cb, drain_cb, FUV_BRIDGE_DRAIN_CB, 1, arg1, box1)

/* Close and every request (connect, write, shutdown) always register,
 * with no function for nil, so that the binding learns when they complete
 * and holds the handle until then (fuvlua_box_must_live). */
%define FUVLUA_ALWAYS_REGISTER(CTYPE, KIND)
%typemap(check) CTYPE cb %{
  $1 = ($1_ltype)fuvlua_prepare(L, cbarg$argnum, KIND, 1, NULL, &reg$argnum,
                                &ref$argnum);
%}
%enddef
FUVLUA_ALWAYS_REGISTER(fuv_close_cb, FUV_BRIDGE_CLOSE_CB)
FUVLUA_ALWAYS_REGISTER(fuv_connect_cb, FUV_BRIDGE_CONNECT_CB)
FUVLUA_ALWAYS_REGISTER(fuv_shutdown_cb, FUV_BRIDGE_SHUTDOWN_CB)
FUVLUA_ALWAYS_REGISTER(fuv_write_cb, FUV_BRIDGE_WRITE_CB)

/* Optional callbacks may be left out. */
%typemap(default) fuv_close_cb cb, fuv_write_cb cb, fuv_connect_cb cb,
                  fuv_shutdown_cb cb, fuv_connection_cb cb,
                  fuv_drain_cb drain_cb %{
  $1 = NULL;
%}


/* Listening without a callback (for accept_sync), or clearing the drain
 * callback, drops the previous registration of that kind. */
%typemap(argout) fuv_connection_cb cb %{
  if (reg$argnum == NULL && ref$argnum == NULL && result == 0)
    fuvlua_clear_slot(L, (fuv_handle_t *)arg1, FUV_BRIDGE_CONNECTION_CB);
  fuvlua_settle(L, cbarg$argnum, FUV_BRIDGE_CONNECTION_CB, reg$argnum, ref$argnum,
                result, (fuv_handle_t *)arg1, 0);
%}
%typemap(argout) fuv_drain_cb drain_cb %{
  if (reg$argnum == NULL && ref$argnum == NULL && result == 0)
    fuvlua_clear_slot(L, (fuv_handle_t *)arg1, FUV_BRIDGE_DRAIN_CB);
  fuvlua_settle(L, cbarg$argnum, FUV_BRIDGE_DRAIN_CB, reg$argnum, ref$argnum,
                result, (fuv_handle_t *)arg1, 0);
%}


/* ---- typemaps: the loop run --------------------------------------------------- */

%typemap(in) fuv_run_mode_t mode %{
  $1 = ($1_ltype)fuvlua_check_enum(L, $input, "run mode", fuvlua_run_modes);
%}
%typemap(default) fuv_run_mode_t mode %{
  $1 = FUV_RUN_DEFAULT;
%}

/* Callbacks run on the state that runs the loop; an error one of them
 * raised comes out of uv.run() here. */
%exception fuv_run %{
  {
    fuvlua_ctx *ctx_ = fuvlua_ctx_get(L);
    lua_State *saved_ = ctx_->L;
    int running_ = ctx_->running;
    /* Running the loop from a walk callback would free handles that the
     * walk is about to visit. */
    if (ctx_->walking) {
      result = FUV_EBUSY;
    } else {
      ctx_->L = L;
      ctx_->running = 1;
      $action
      ctx_->L = saved_;
      ctx_->running = running_;
      fuvlua_raise_pending(L, ctx_);
    }
  }
%}
%exception fuv_walk %{
  {
    fuvlua_ctx *ctx_ = fuvlua_ctx_get(L);
    lua_State *saved_ = ctx_->L;
    ctx_->L = L;
    ctx_->walking++;
    $action
    ctx_->walking--;
    ctx_->L = saved_;
  }
%}
/* The walk's registration is released, then any error its callback raised
 * comes out. */
%typemap(argout) fuv_walk_cb cb %{
  fuvlua_settle(L, cbarg$argnum, FUV_BRIDGE_WALK_CB, reg$argnum, ref$argnum,
                result, NULL, 1);
  fuvlua_raise_pending(L, fuvlua_ctx_get(L));
%}
%exception fuv_loop_free %{
  {
    fuvlua_ctx *ctx_ = fuvlua_ctx_get(L);
    lua_State *saved_ = ctx_->L;
    (void)arg1; /* made if missing, so that there is one to free */
    ctx_->L = L;
    result = fuv_bridge_loop_free(ctx_->bridge);
    ctx_->L = saved_;
    if (result == 0) {
      ctx_->bridge = NULL;
      ctx_->loop = NULL;
    }
  }
%}
/* uv.run() returns whether handles remain, as luv does. */
%typemap(out) int fuv_run %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
  else {
    lua_pushboolean(L, result != 0);
    SWIG_arg++;
  }
%}

/* ---- typemaps: numbers, booleans, strings ------------------------------------ */

%typemap(in) int %{
  $1 = ($1_ltype)fuvlua_check_integer(L, $input, INT_MIN, INT_MAX);
%}
%typemap(in) unsigned int %{
  $1 = ($1_ltype)fuvlua_check_integer(L, $input, 0, UINT_MAX);
%}
%typemap(in) uint64_t, size_t %{
  $1 = ($1_ltype)fuvlua_check_integer(L, $input, 0, 9007199254740991.0);
%}
%typemap(in) enum SWIGTYPE %{
  $1 = ($1_ltype)fuvlua_check_integer(L, $input, INT_MIN, INT_MAX);
%}
%typemap(in) int enable, int on %{
  $1 = fuvlua_check_bool(L, $input);
%}
%typemap(in) unsigned int flags %{
  $1 = fuvlua_check_flags(L, $input, fuvlua_bind_flags);
%}
%typemap(default) unsigned int flags %{
  $1 = 0;
%}
%typemap(in) int domain %{
  $1 = fuvlua_check_enum(L, $input, "address family", fuvlua_families);
%}
%typemap(default) int domain %{
  $1 = FUV_AF_UNSPEC;
%}
%typemap(in) int type %{
  $1 = fuvlua_check_enum(L, $input, "socket type", fuvlua_socket_types);
%}
%typemap(default) int type %{
  $1 = FUV_SOCK_STREAM;
%}
%typemap(default) int protocol, unsigned int delay_s %{
  $1 = 0;
%}
%typemap(in) int flags0, int flags1 %{
  $1 = (int)fuvlua_check_flags(L, $input, fuvlua_socketpair_flags);
%}
%typemap(default) int flags0, int flags1 %{
  $1 = 0;
%}

%typemap(in) const char * %{
  $1 = ($1_ltype)fuvlua_check_cstring(L, $input, 0);
%}
%typemap(in) const char *ifname %{
  $1 = ($1_ltype)fuvlua_check_cstring(L, $input, 1);
%}

/* Results (the FUV_STATUS role): a negative int is an error in luv's
 * form, else the value. */
%typemap(out) int FUV_STATUS %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
  else {
    lua_pushinteger(L, (lua_Integer)result);
    SWIG_arg++;
  }
%}
%typemap(out) unsigned int, uint64_t, size_t %{
  lua_pushinteger(L, (lua_Integer)$1);
  SWIG_arg++;
%}
/* Ints that are values even when negative (FUV_VALUE). */
%typemap(out) int FUV_VALUE %{
  lua_pushinteger(L, (lua_Integer)result);
  SWIG_arg++;
%}
/* Predicates return booleans. */
%typemap(out) int fuv_is_active, int fuv_is_closing, int fuv_has_ref,
              int fuv_is_readable, int fuv_is_writable, int fuv_loop_alive,
              int fuv_stream_is_congested %{
  lua_pushboolean(L, result != 0);
  SWIG_arg++;
%}
/* A handle whose close has completed is closing for ever. */
%exception fuv_is_closing %{
  $action
  if (box1->handle == NULL)
    result = 1;
%}
%typemap(out) int fuv_tcp_get_reuseaddr, int fuv_tcp_get_ipv6only %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
  else {
    lua_pushboolean(L, result != 0);
    SWIG_arg++;
  }
%}
/* get_type() and state() return a name, then the number, as luv's
 * handle:get_type() does. */
%typemap(out) fuv_handle_type_t fuv_handle_type %{
  lua_pushstring(L, fuv_handle_type_name(result));
  lua_pushinteger(L, (lua_Integer)result);
  SWIG_arg += 2;
%}
%typemap(out) int fuv_tcp_state %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
  else {
    lua_pushstring(L, fuv_tcp_state_name(result));
    lua_pushinteger(L, (lua_Integer)result);
    SWIG_arg += 2;
  }
%}

/* ---- typemaps: buffers ---------------------------------------------------------- */

/* Data to write or send: a string (copied by the library as needed). */
%typemap(in) (const char *BYTES, size_t LENGTH) %{
  if (lua_type(L, $input) != LUA_TSTRING)
    fuvlua_type_error(L, $input, "string");
  $1 = ($1_ltype)lua_tolstring(L, $input, &$2);
%}

/* writev: a string, or a table (sequence) of strings written as one; it
 * is the `write` method. Up to 16 pieces need no allocation. The pieces
 * are gathered in the check typemap, after every argument has been read,
 * since a large table needs a userdata pushed above the arguments. */
%typemap(in) (const char *const *BUFS, const size_t *LENS, size_t NBUFS)
    (const char *small_bufs[16], size_t small_lens[16], int table = 0) %{
  if (lua_type(L, $input) == LUA_TSTRING) {
    small_bufs[0] = lua_tolstring(L, $input, &small_lens[0]);
    $1 = ($1_ltype)small_bufs;
    $2 = small_lens;
    $3 = 1;
  } else if (lua_type(L, $input) == LUA_TTABLE) {
    table = $input;
  } else {
    fuvlua_type_error(L, $input, "string or table of strings");
  }
%}
%typemap(check) (const char *const *BUFS, const size_t *LENS, size_t NBUFS) %{
  if (table$argnum != 0) {
    int t = table$argnum;
    size_t i, n;
#if LUA_VERSION_NUM >= 502
    n = (size_t)lua_rawlen(L, t);
#else
    n = lua_objlen(L, t);
#endif
    if (n <= 16) {
      $1 = ($1_ltype)small_bufs$argnum;
      $2 = small_lens$argnum;
    } else {
      char *mem = (char *)lua_newuserdata(L, n * (sizeof(char *) + sizeof(size_t)));
      $2 = (size_t *)mem;
      $1 = ($1_ltype)(mem + n * sizeof(size_t));
    }
    for (i = 0; i < n; i++) {
      lua_rawgeti(L, t, (int)i + 1);
      if (lua_type(L, -1) != LUA_TSTRING)
        luaL_argerror(L, t, lua_pushfstring(L, "item %d is %s, not a string",
                                            (int)i + 1, luaL_typename(L, -1)));
      ((const char **)$1)[i] = lua_tolstring(L, -1, &((size_t *)$2)[i]);
      lua_pop(L, 1); /* the table keeps the string alive */
    }
    $3 = n;
  }
%}

/* recv(n, timeout_ms) returns a string: up to n bytes, "" at end of
 * stream. The buffer is a userdata made once the arguments are checked; it
 * is at most FUVLUA_MAX_RECV bytes, since a receive returns what has
 * arrived, never more, and a large n should not cost a large buffer. */
%typemap(in) (char *BYTES_OUT, size_t LENGTH) %{
  $2 = (size_t)fuvlua_check_integer(L, $input, 1, INT_MAX);
  if ($2 > FUVLUA_MAX_RECV)
    $2 = FUVLUA_MAX_RECV;
%}
%typemap(check) (char *BYTES_OUT, size_t LENGTH) %{
  $1 = (char *)lua_newuserdata(L, $2);
%}
%typemap(argout) (char *BYTES_OUT, size_t LENGTH) %{
  if (result >= 0) {
    lua_pushlstring(L, $1, (size_t)result);
    SWIG_arg++;
  }
%}
%typemap(out) int fuv_recv %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
%}

/* ---- typemaps: addresses and other out-parameters --------------------------------- */

/* getsockname() / getpeername() give luv's {ip = ..., port = ..., family = ...}. */
%typemap(in, numinputs=0) (char *IP_OUT, size_t IP_LENGTH, int *PORT_OUT)
    (char ipbuf[FUV_IP_NAME_MAX], int portval = 0) %{
  ipbuf[0] = '\0';
  $1 = ipbuf;
  $2 = sizeof ipbuf;
  $3 = &portval;
%}
%typemap(argout) (char *IP_OUT, size_t IP_LENGTH, int *PORT_OUT) %{
  if (result == 0) {
    fuvlua_push_address(L, ipbuf$argnum, portval$argnum);
    SWIG_arg++;
  }
%}
%typemap(out) int fuv_tcp_getsockname, int fuv_tcp_getpeername,
              int fuv_tcp_getsockname_addr, int fuv_tcp_getpeername_addr,
              int fuv_ip4_addr, int fuv_ip6_addr, int fuv_ip_name,
              int fuv_tcp_get_linger, int fuv_socketpair %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
%}

/* Addresses as userdata (flatuv.sockaddr), for the _addr calls. */
%typemap(in) const struct sockaddr *SOCKADDR %{
  $1 = fuvlua_check_sockaddr(L, $input);
%}
%typemap(in, numinputs=0) struct sockaddr_in *SOCKADDR_OUT (struct sockaddr_storage ss),
                          struct sockaddr_in6 *SOCKADDR_OUT (struct sockaddr_storage ss) %{
  memset(&ss, 0, sizeof ss);
  $1 = ($1_ltype)&ss;
%}
%typemap(argout) struct sockaddr_in *SOCKADDR_OUT, struct sockaddr_in6 *SOCKADDR_OUT %{
  if (result == 0) {
    memcpy(fuvlua_new_sockaddr(L), &ss$argnum, sizeof ss$argnum);
    SWIG_arg++;
  }
%}
%typemap(in, numinputs=0) (struct sockaddr *SOCKADDR_OUT, int *SOCKADDR_LENGTH)
    (struct sockaddr_storage ss, int sslen) %{
  memset(&ss, 0, sizeof ss);
  sslen = (int)sizeof ss;
  $1 = (struct sockaddr *)&ss;
  $2 = &sslen;
%}
%typemap(argout) (struct sockaddr *SOCKADDR_OUT, int *SOCKADDR_LENGTH) %{
  if (result == 0) {
    memcpy(fuvlua_new_sockaddr(L), &ss$argnum, sizeof ss$argnum);
    SWIG_arg++;
  }
%}
%typemap(in, numinputs=0) (char *TEXT_OUT, size_t TEXT_LENGTH) (char namebuf[FUV_IP_NAME_MAX]) %{
  namebuf[0] = '\0';
  $1 = namebuf;
  $2 = sizeof namebuf;
%}
%typemap(argout) (char *TEXT_OUT, size_t TEXT_LENGTH) %{
  if (result == 0) {
    lua_pushstring(L, namebuf$argnum);
    SWIG_arg++;
  }
%}

/* Pairs of int results (get_linger's on and seconds, socketpair's fds). */
%typemap(in, numinputs=0) (int *INT_OUT1, int *INT_OUT2) (int first = -1, int second = -1) %{
  $1 = &first;
  $2 = &second;
%}
%typemap(argout) (int *INT_OUT1, int *INT_OUT2) %{
  if (result == 0) {
    lua_pushinteger(L, first$argnum);
    lua_pushinteger(L, second$argnum);
    SWIG_arg += 2;
  }
%}

/* ---- luv's argument order ------------------------------------------------------ */

/* timer:start(timeout_ms, repeat_ms, cb): luv puts the callback last. SWIG's
 * Lua module cannot read one C argument from a later Lua position, so an
 * adapter (in bindings/lua/src/context.c) reorders them; it is the only
 * function declared here. */
%ignore fuv_timer_start;
%rename(timer_start) fuvlua_timer_start;
/* flatuv.i applies the roles after this file; the adapter needs them now. */
%apply int FUV_STATUS { int fuvlua_timer_start };
%apply void *CALLBACK_ARG { void *arg };
int fuvlua_timer_start(fuv_timer_t *timer, uint64_t timeout_ms,
                       uint64_t repeat_ms, fuv_timer_cb cb, void *arg);
