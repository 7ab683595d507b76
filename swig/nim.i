/*
 * nim.i - the Nim names of the flatuv API.
 *
 * Only the XML target (`swig -xml`) sees this file; bindings/apigen
 * (apigen/emit_nim_raw.py) reads the resulting sym_name of each
 * declaration and writes the Nim raw layer. The idiomatic layer
 * (apigen/emit_nim.py) uses these names too, except where swig/api.i
 * gives one with fuv:nim:name.
 * The names follow the documented style of the nim-uv wrapper
 * (shared/reference/nim-uv_tcp.txt): object types are capitalised nouns
 * used through `ptr`, and procs are short verbs that Nim's overloading
 * resolves by the type of their first parameter (`init(ptr ptr TCP, ...)`
 * and `init(ptr ptr Timer, ...)` are two procs).
 *
 * Everything not renamed here gets the default rule (apigen/nim_names.py):
 *  - types: drop "fuv_" and "_t", then UpperCamelCase (fuv_close_cb ->
 *    CloseCb, fuv_run_mode_t -> RunMode);
 *  - a constructor (fuv_X_new(fuv_X_t **, ...)) is `init`;
 *  - other functions: the one naming rule (apigen/naming.py): drop "fuv_",
 *    also drop the object word of the first parameter's type or of one of
 *    its bases (fuv_timer_start(fuv_timer_t *) -> start,
 *    fuv_tcp_set_linger(fuv_tcp_t *) -> setLinger), then lowerCamelCase;
 *  - constants and enum values keep their C names (FUV_EOF, FUV_RUN_ONCE),
 *    as Nim's posix module keeps EAGAIN and AF_INET.
 * So a function added to flatuv.h appears in Nim with no change here; a
 * rename is only needed where the rule gives a poor or clashing name.
 */

/* Object types. */
%rename(Loop) fuv_loop_t;
%rename(Handle) fuv_handle_t;
%rename(Stream) fuv_stream_t;
%rename(TCP) fuv_tcp_t;
%rename(Timer) fuv_timer_t;
%rename(Async) fuv_async_t;

/* Constructors and destructors. */
%rename(init) fuv_loop_new;
%rename(close) fuv_loop_free;
%rename(init) fuv_timer_new;
%rename(init) fuv_async_new;
%rename(init) fuv_tcp_new;
%rename(init) fuv_tcp_new_ex;

/* Loop. */
%rename(isAlive) fuv_loop_alive;

/* Handles: `ref` is a Nim keyword, and the rule would make `type` of
 * fuv_handle_type. */
%rename(refHandle) fuv_ref;
%rename(unrefHandle) fuv_unref;
%rename(hasRefHandle) fuv_has_ref;
%rename(handleType) fuv_handle_type;
/* type(x) is Nim's typeof. */
%rename(reqType) fuv_req_type;

/* TCP, as nim-uv names the libuv counterparts. */
%rename(setNoDelay) fuv_tcp_nodelay;
%rename(setKeepAlive) fuv_tcp_keepalive;
%rename(setKeepAlive) fuv_tcp_keepalive_ex;
%rename(bindAddr) fuv_tcp_bind;
%rename(bindAddr) fuv_tcp_bind_addr;
%rename(getSockName) fuv_tcp_getsockname;
%rename(getSockName) fuv_tcp_getsockname_addr;
%rename(getPeerName) fuv_tcp_getpeername;
%rename(getPeerName) fuv_tcp_getpeername_addr;
%rename(connect) fuv_tcp_connect_addr;

/* UDP, as TCP: `bind` is a Nim keyword; nim-uv's sockname names. */
%rename(UDP) fuv_udp_t;
%rename(init) fuv_udp_new;
%rename(init) fuv_udp_new_ex;
%rename(bindAddr) fuv_udp_bind;
%rename(getSockName) fuv_udp_getsockname;
%rename(getPeerName) fuv_udp_getpeername;
