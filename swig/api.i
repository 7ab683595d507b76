/*
 * api.i - what the header's C types do not say, said once for every
 * language.
 *
 * bindings/apigen builds each binding's surface from the header by rule
 * (bindings/apigen/apigen/model.py states the rules and these keys): a
 * function is a method of the object its first parameter points to, its
 * name loses the prefix and the object word, an int is a status, an int
 * of a const object is a value, `is_`/`has_` names are predicates, a
 * `_ms` parameter is a duration, (ip, port) is an address, a callback's
 * `void *arg` is the bridge's. These annotations are the exceptions, as
 * SWIG features, so `swig -xml` carries them to the generator. A function
 * added to the header that the rules fit needs nothing here.
 */

/* ---- the handle hierarchy ------------------------------------------------ */

%feature("fuv:base", "fuv_handle_t") fuv_stream_t;
%feature("fuv:base", "fuv_stream_t") fuv_tcp_t;
%feature("fuv:base", "fuv_handle_t") fuv_timer_t;
%feature("fuv:base", "fuv_handle_t") fuv_async_t;
%feature("fuv:base", "fuv_stream_t") fuv_pipe_t;
%feature("fuv:base", "fuv_handle_t") fuv_prepare_t;
%feature("fuv:base", "fuv_handle_t") fuv_check_t;
%feature("fuv:base", "fuv_handle_t") fuv_idle_t;
/* A request is no handle: the library owns it and counts references; a
 * binding's request object holds one and gives it back when collected. */
%feature("fuv:request") fuv_req_t;

/* ---- callbacks that may be left out ---------------------------------------- */

/* Requests and close report their outcome; a caller may not care. The
 * handle's own events (a timer, reading, an async, a walk) need a callback. */
%feature("fuv:optional") fuv_close_cb;
%feature("fuv:optional") fuv_write_cb;
%feature("fuv:optional") fuv_connect_cb;
%feature("fuv:optional") fuv_shutdown_cb;
%feature("fuv:optional") fuv_connection_cb;
%feature("fuv:optional") fuv_drain_cb;
%feature("fuv:optional") fuv_pipe_connect_cb;

/* How long a callback's registration lives (default: persistent, one per
 * handle and kind until replaced or the handle closes; the bridge's table
 * says the same): a request's outcome is called once; close's also ends
 * the handle; walk's only during the call that takes it. */
%feature("fuv:lifetime", "one_shot") fuv_write_cb;
%feature("fuv:lifetime", "one_shot") fuv_connect_cb;
%feature("fuv:lifetime", "one_shot") fuv_shutdown_cb;
%feature("fuv:lifetime", "one_shot") fuv_pipe_connect_cb;
%feature("fuv:lifetime", "close") fuv_close_cb;
%feature("fuv:lifetime", "scoped") fuv_walk_cb;

/* ---- results the rules do not give ------------------------------------------ */

%feature("fuv:result", "predicate") fuv_loop_alive;
%feature("fuv:result", "predicate") fuv_run;
%feature("fuv:result", "predicate") fuv_tcp_get_reuseaddr;
%feature("fuv:result", "predicate") fuv_tcp_get_ipv6only;
/* Values even when negative: -1 is "no timeout", the others are codes. */
%feature("fuv:result", "value") fuv_backend_timeout;
%feature("fuv:result", "value") fuv_translate_sys_error;
%feature("fuv:result", "value") fuv_tcp_socket_error;
/* Non-negative values of calls that change their object. */
%feature("fuv:result", "count") fuv_loop_wakeup_fd;
%feature("fuv:result", "count") fuv_tcp_detach;
%feature("fuv:result", "count") fuv_try_write;
%feature("fuv:result", "count") fuv_pipe_pending_count;
%feature("fuv:result", "count") fuv_threadpool_size;
/* A run mode, or -1 when the loop is not running: None / nil. */
%feature("fuv:result", "enum_or_none:fuv_run_mode_t") fuv_loop_mode;
/* An int the header documents as one of an enum's values. */
%feature("fuv:result", "enum:fuv_tcp_state_t") fuv_tcp_state;
/* Durations in ms (Python gives seconds). */
%feature("fuv:unit", "ms") fuv_now;
%feature("fuv:unit", "ms") fuv_backend_timeout;
%feature("fuv:unit", "ms") fuv_timer_get_repeat;
%feature("fuv:unit", "ms") fuv_timer_get_due_in;

/* ---- names ----------------------------------------------------------------------- */

/* libuv's uv_loop_close; the C name says what it does to the memory. */
%feature("fuv:name", "close") fuv_loop_free;
/* A pipe's name is bound and connected to with its length, so that a
 * Linux abstract name (a first byte of NUL) works: the *2 calls are the
 * bindings' bind and connect, the C-string ones stay C's (hidden below). */
%feature("fuv:name", "bind") fuv_pipe_bind2;
%feature("fuv:name", "connect") fuv_pipe_connect2;
/* A request's kind, as a handle's: type(). */

/* ---- defaults ---------------------------------------------------------------- */

%feature("fuv:defaults", "backlog=128") fuv_listen;
%feature("fuv:defaults", "mode=FUV_RUN_DEFAULT") fuv_run;
%feature("fuv:defaults", "flags=0") fuv_tcp_bind;
%feature("fuv:defaults", "flags=0") fuv_tcp_bind_addr;
%feature("fuv:defaults", "delay_s=0") fuv_tcp_keepalive;
%feature("fuv:defaults", "low_water=0") fuv_stream_set_water_marks;
%feature("fuv:defaults", "repeat_ms=0") fuv_timer_start;
%feature("fuv:defaults", "timeout_ms=-1") fuv_tcp_connect_sync;
%feature("fuv:defaults", "timeout_ms=-1") fuv_accept_sync;
%feature("fuv:defaults", "timeout_ms=-1") fuv_send;
%feature("fuv:defaults", "timeout_ms=-1") fuv_recv;
%feature("fuv:defaults", "type=FUV_SOCK_STREAM,protocol=0,flags0=0,flags1=0") fuv_socketpair;
%feature("fuv:defaults", "enable=1") fuv_tcp_nodelay;
%feature("fuv:defaults", "seconds=0") fuv_tcp_set_linger;
%feature("fuv:defaults", "ipc=0") fuv_pipe_new;
%feature("fuv:defaults", "read_flags=0,write_flags=0") fuv_pipe;
%feature("fuv:defaults", "value=0") fuv_loop_configure;
/* libuv prints to stderr. */
%feature("fuv:defaults", "fd=2") fuv_print_all_handles;
%feature("fuv:defaults", "fd=2") fuv_print_active_handles;
%feature("fuv:defaults", "timeout_ms=-1") fuv_stream_accept_sync;
%feature("fuv:defaults", "timeout_ms=-1") fuv_pipe_connect_sync;

/* ---- what the bindings keep to themselves ------------------------------------------ */

/* The data pointers are the bridge's: each binding keeps its own data on
 * its objects. */
%feature("fuv:hidden", "python,lua,nim") fuv_loop_get_data;
%feature("fuv:hidden", "python,lua,nim") fuv_loop_set_data;
%feature("fuv:hidden", "python,lua,nim") fuv_handle_get_data;
%feature("fuv:hidden", "python,lua,nim") fuv_handle_set_data;
/* The C-string forms of the pipe's bind2 / connect2 (see names). */
%feature("fuv:hidden", "python,lua,nim") fuv_pipe_bind;
%feature("fuv:hidden", "python,lua,nim") fuv_pipe_connect;
/* A request object's reference is its binding object's, given back when
 * that is collected. */
%feature("fuv:hidden", "python,lua,nim") fuv_req_release;
/* accept() stays fuv_accept for a TCP server; a pipe server's accept and
 * accept(client) are fuv_stream_accept_into (the overrides' dispatch). */
%feature("fuv:hidden", "python,lua,nim") fuv_stream_accept;
%feature("fuv:hidden", "python,lua,nim") fuv_stream_accept_sync;
/* The work callback runs on a pool thread, where no host interpreter may
 * be entered: the worker pool is C's alone. */
%feature("fuv:hidden", "python,lua,nim") fuv_queue_work;
%feature("fuv:hidden", "python,lua,nim") fuv_queue_work_req;

/* Requests in flight: every language's write, writev, write2, shutdown
 * and connect are the *_req calls, returning the request (luv returns it;
 * pyuv programs ignore what these return, so a Request harms none), and
 * the plain calls stay C's. Lua and Python ask for a request only when a
 * callback is given (see lua.i, python.i): an echo server's every write
 * makes none. */
%feature("fuv:hidden", "python,lua,nim") fuv_pipe_connect_req;
%feature("fuv:python:name", "writev") fuv_writev_req;
%feature("fuv:python:hidden") fuv_writev;
%feature("fuv:python:name", "write2") fuv_write2_req;
%feature("fuv:python:hidden") fuv_write2;
%feature("fuv:python:name", "shutdown") fuv_shutdown_req;
%feature("fuv:python:hidden") fuv_shutdown;
%feature("fuv:python:name", "connect") fuv_tcp_connect_req;
%feature("fuv:python:hidden") fuv_tcp_connect;
%feature("fuv:python:name", "connect") fuv_pipe_connect2_req;
%feature("fuv:python:hidden") fuv_pipe_connect2;
/* Nim: the *_req procs take the plain calls' names and return a
 * discardable Req. */
%feature("fuv:nim:name", "write") fuv_write_req;
%feature("fuv:nim:name", "write") fuv_writev_req;
%feature("fuv:nim:name", "write2") fuv_write2_req;
%feature("fuv:nim:name", "shutdown") fuv_shutdown_req;
%feature("fuv:nim:name", "connect") fuv_tcp_connect_req;
%feature("fuv:nim:name", "connect") fuv_pipe_connect2_req;
%feature("fuv:nim:hidden") fuv_write;
%feature("fuv:nim:hidden") fuv_writev;
%feature("fuv:nim:hidden") fuv_write2;
%feature("fuv:nim:hidden") fuv_shutdown;
%feature("fuv:nim:hidden") fuv_tcp_connect;
%feature("fuv:nim:hidden") fuv_pipe_connect2;

/* ---- enums -------------------------------------------------------------------- */

/* Python's names: TCP is an acronym; the members lose what they share. */
%feature("fuv:python:name", "TCPState") fuv_tcp_state_t;
%feature("fuv:member", "UNKNOWN") FUV_UNKNOWN_HANDLE;
%feature("fuv:member", "UNKNOWN") FUV_TCP_STATE_UNKNOWN;

/* ---- Nim (bindings/apigen/apigen/emit_nim.py) --------------------------------- */

/* Nim's idiomatic names where they differ from the raw layer's (nim.i). */
%feature("fuv:nim:name", "alive") fuv_loop_alive;
%feature("fuv:nim:name", "hasRef") fuv_has_ref;
/* newTCP's family parameter, which no C signature types. */
%feature("fuv:nim:name", "Family") fuv_address_family_t;
%feature("fuv:nim:member", "familyNone") FUV_AF_UNSPEC;
%feature("fuv:nim:member", "runNoWait") FUV_RUN_NOWAIT;
/* The first probe a minute after the connection goes idle. */
%feature("fuv:nim:defaults", "delay_s=60") fuv_tcp_keepalive;
/* Nim has os.sleep; a second one would make every sleep(ms) ambiguous. */
%feature("fuv:nim:hidden") fuv_sleep;
/* Written by hand in nim/src/flatuv.nim, which says why for each. */
%feature("fuv:nim:override") fuv_version;
%feature("fuv:nim:override") fuv_err_name;
%feature("fuv:nim:override") fuv_run;
%feature("fuv:nim:override") fuv_is_closing;
%feature("fuv:nim:override") fuv_handle_loop;
%feature("fuv:nim:override") fuv_tcp_new;
%feature("fuv:nim:override") fuv_tcp_new_ex;
%feature("fuv:nim:override") fuv_tcp_bind;

/* ---- Python (bindings/apigen/apigen/emit_python.py) ------------------------- */

/* flatuv.Request: a word, not libuv's abbreviation. */
%feature("fuv:python:name", "Request") fuv_req_t;
%feature("fuv:python", "property") fuv_req_type;
/* pyuv's Pipe: pending_handle_type(), pending_count (an attribute). */
%feature("fuv:python:name", "pending_handle_type") fuv_pipe_pending_type;
%feature("fuv:python", "property") fuv_pipe_pending_count;
%feature("fuv:python:args", "type=req_type") fuv_req_type_name;
%feature("fuv:python", "scoped") fuv_req_type_t;

/* Attributes, as in pyuv: properties beyond the `is_X` predicates (which
 * are properties by rule); a set_NAME setter joins its property. */
%feature("fuv:python", "property") fuv_handle_type;
%feature("fuv:python", "property") fuv_write_queue_size;
%feature("fuv:python", "property") fuv_timer_get_repeat;
%feature("fuv:python", "property") fuv_timer_get_due_in;
/* pyuv's order: listen(callback=None, backlog=128). */
%feature("fuv:python:order", "cb,backlog") fuv_listen;
/* They build an address from its parts: ip4_addr(ip, port). */
%feature("fuv:python:order", "ip,port") fuv_ip4_addr;
%feature("fuv:python:order", "ip,port") fuv_ip6_addr;
/* The parameter names Python has always had. */
%feature("fuv:python:args", "high_water=high,low_water=low") fuv_stream_set_water_marks;
%feature("fuv:python:args", "err=code") fuv_err_name;
%feature("fuv:python:args", "err=code") fuv_strerror;
%feature("fuv:python:args", "type=handle_type") fuv_handle_type_name;
/* keepalive_ex(False) needs none of them (each is >= 1 when enabling). */
%feature("fuv:python:defaults", "idle_s=0,interval_s=0,count=0") fuv_tcp_keepalive_ex;
/* Members only in their class: HandleType.TCP as a module-level TCP would
 * hide the class. */
%feature("fuv:python", "scoped") fuv_handle_type_t;
%feature("fuv:python", "scoped") fuv_tcp_state_t;
/* Written by hand in python/flatuv/_overrides.py, which says why for each. */
%feature("fuv:python:override") fuv_is_active;
%feature("fuv:python:override") fuv_is_closing;
%feature("fuv:python:override") fuv_write;
%feature("fuv:python:override") fuv_write_req;
%feature("fuv:python:override") fuv_tcp_new;
%feature("fuv:python:override") fuv_tcp_new_ex;
%feature("fuv:python:override") fuv_accept;
%feature("fuv:python:override") fuv_stream_accept_into;
%feature("fuv:python:override") fuv_udp_new;
%feature("fuv:python:override") fuv_udp_new_ex;

/* ---- Lua (bindings/apigen/apigen/emit_lua.py) -------------------------------- */

/* luv's names where they differ from the C name (uv.NAME; more than one:
 * the first is luv's, the others the names flatuv's Lua module has always
 * had) and from the neutral name (handle:NAME). */
%feature("fuv:lua:function", "loop_close") fuv_loop_free;
%feature("fuv:lua:function", "handle_get_type,get_type") fuv_handle_type;
%feature("fuv:lua:name", "get_type") fuv_handle_type;
%feature("fuv:lua:function", "stream_get_write_queue_size,get_write_queue_size") fuv_write_queue_size;
%feature("fuv:lua:name", "get_write_queue_size") fuv_write_queue_size;
/* luv's write takes a string or a table of strings: fuv_writev, which
 * covers fuv_write. */
%feature("fuv:lua:function", "write,writev") fuv_writev_req;
%feature("fuv:lua:name", "write") fuv_writev_req;
%feature("fuv:lua:hidden") fuv_write;
%feature("fuv:lua:hidden") fuv_write_req;
/* luv's write, write2, shutdown and tcp/pipe:connect return the request
 * (uv.cancel(req), req:cancel(), uv.req_get_type(req)): the *_req calls,
 * whose plain forms Lua leaves to C. */
%feature("fuv:lua:hidden") fuv_writev;
%feature("fuv:lua:function", "write2") fuv_write2_req;
%feature("fuv:lua:name", "write2") fuv_write2_req;
%feature("fuv:lua:hidden") fuv_write2;
%feature("fuv:lua:function", "shutdown") fuv_shutdown_req;
%feature("fuv:lua:name", "shutdown") fuv_shutdown_req;
%feature("fuv:lua:hidden") fuv_shutdown;
%feature("fuv:lua:function", "tcp_connect") fuv_tcp_connect_req;
%feature("fuv:lua:name", "connect") fuv_tcp_connect_req;
%feature("fuv:lua:hidden") fuv_tcp_connect;
%feature("fuv:lua:function", "pipe_connect") fuv_pipe_connect2_req;
%feature("fuv:lua:name", "connect") fuv_pipe_connect2_req;
%feature("fuv:lua:hidden") fuv_pipe_connect2;
/* luv's uv.pipe_bind is the *2 form (see names). */
%feature("fuv:lua:function", "pipe_bind") fuv_pipe_bind2;
/* luv's request functions: uv.req_get_type(req) -> "write", 2. */
%feature("fuv:lua:function", "req_get_type") fuv_req_type;
%feature("fuv:lua:name", "get_type") fuv_req_type;
/* Each Lua state has one loop, made on first use. */
%feature("fuv:lua:hidden") fuv_loop_new;
%feature("fuv:lua:hidden") fuv_handle_loop;
/* Written by hand in bindings/lua/overrides.lua, which says why for each. */
%feature("fuv:lua:override") fuv_timer_start;
%feature("fuv:lua:override") fuv_socketpair;
%feature("fuv:lua:override") fuv_pipe;
%feature("fuv:lua:override") fuv_metrics_info;
%feature("fuv:lua:override") fuv_print_all_handles;
%feature("fuv:lua:override") fuv_print_active_handles;
%feature("fuv:lua:override") fuv_accept;
%feature("fuv:lua:override") fuv_udp_new_ex;
/* server:accept(client) (the override above) covers it. */
%feature("fuv:lua:hidden") fuv_stream_accept_into;

/* ---- UDP (issue 13) ------------------------------------------------------------ */

%feature("fuv:base", "fuv_handle_t") fuv_udp_t;
/* A send reports its outcome, which a caller may not care about; it is a
 * request, called once. A receive callback is the handle's own event. */
%feature("fuv:optional") fuv_udp_send_cb;
%feature("fuv:lifetime", "one_shot") fuv_udp_send_cb;
/* An ip of NULL: connect disconnects, a send goes to the connected peer. */
%feature("fuv:none", "ip") fuv_udp_connect;
%feature("fuv:none", "ip") fuv_udp_send;
%feature("fuv:none", "ip") fuv_udp_send_req;
%feature("fuv:none", "ip") fuv_udp_try_send;
%feature("fuv:none", "ip") fuv_udp_try_send_many;
%feature("fuv:none", "ip") fuv_udp_send_sync;
/* NULL: the system's choice of interface. */
%feature("fuv:none", "interface_addr") fuv_udp_set_multicast_interface;
%feature("fuv:none", "interface_addr") fuv_udp_set_membership;
%feature("fuv:none", "interface_addr") fuv_udp_set_source_membership;
/* An int the header documents as one of an enum's values. */
%feature("fuv:args:enum", "membership=fuv_membership_t") fuv_udp_set_membership;
%feature("fuv:args:enum", "membership=fuv_membership_t") fuv_udp_set_source_membership;
%feature("fuv:args:enum", "domain=fuv_address_family_t") fuv_udp_new_ex;
/* 1 or 0. */
%feature("fuv:result", "predicate") fuv_udp_using_recvmmsg;
%feature("fuv:result", "predicate") fuv_udp_get_gro;
%feature("fuv:defaults", "flags=0") fuv_udp_bind;
%feature("fuv:defaults", "flags=0") fuv_udp_new_ex;
%feature("fuv:defaults", "timeout_ms=-1") fuv_udp_send_sync;
/* Room for any datagram. */
%feature("fuv:defaults", "buf=65536,timeout_ms=-1") fuv_udp_recv_sync;
/* The sockaddr forms and fuv_sockaddr_ip are for C callers: the bindings
 * take and give (ip, port), and the bridge converts a receive callback's
 * sockaddr itself. */
%feature("fuv:hidden", "python,lua,nim") fuv_udp_bind_addr;
%feature("fuv:hidden", "python,lua,nim") fuv_udp_connect_addr;
%feature("fuv:hidden", "python,lua,nim") fuv_udp_getsockname_addr;
%feature("fuv:hidden", "python,lua,nim") fuv_udp_getpeername_addr;
%feature("fuv:hidden", "python,lua,nim") fuv_udp_send_addr;
%feature("fuv:hidden", "python,lua,nim") fuv_udp_try_send_addr;
%feature("fuv:hidden", "python,lua,nim") fuv_udp_try_send_many_addr;
%feature("fuv:hidden", "python,lua,nim") fuv_sockaddr_ip;
/* A send returns its request, as a write does (fuv_write_req): the plain
 * call stays C's. */
%feature("fuv:python:name", "send") fuv_udp_send_req;
%feature("fuv:python:hidden") fuv_udp_send;
%feature("fuv:nim:name", "send") fuv_udp_send_req;
%feature("fuv:nim:hidden") fuv_udp_send;
%feature("fuv:lua:function", "udp_send") fuv_udp_send_req;
%feature("fuv:lua:name", "send") fuv_udp_send_req;
%feature("fuv:lua:hidden") fuv_udp_send;
/* The datagrams sent (try_send: len), as fuv_try_write's bytes. */
%feature("fuv:result", "count") fuv_udp_try_send;
%feature("fuv:result", "count") fuv_udp_try_send_many;
/* Python, in pyuv's style: the address first (send((host, port), data,
 * callback)), the membership before the optional interface. */
%feature("fuv:python:order", "address,bytes,cb") fuv_udp_send_req;
%feature("fuv:python:order", "address,bytes") fuv_udp_try_send;
%feature("fuv:python:order", "address,buffers") fuv_udp_try_send_many;
%feature("fuv:python:order", "address,bytes,timeout_ms") fuv_udp_send_sync;
%feature("fuv:python:order", "multicast_addr,membership,interface_addr") fuv_udp_set_membership;
%feature("fuv:python:order", "multicast_addr,source_addr,membership,interface_addr") fuv_udp_set_source_membership;
%feature("fuv:python:args", "multicast_addr=multicast_address,interface_addr=interface") fuv_udp_set_membership;
%feature("fuv:python:args", "multicast_addr=multicast_address,interface_addr=interface,source_addr=source_address") fuv_udp_set_source_membership;
%feature("fuv:python:defaults", "interface_addr=NULL") fuv_udp_set_membership;
%feature("fuv:python:defaults", "interface_addr=NULL") fuv_udp_set_source_membership;
%feature("fuv:python:args", "interface_addr=interface") fuv_udp_set_multicast_interface;
%feature("fuv:python:defaults", "interface_addr=NULL") fuv_udp_set_multicast_interface;
/* Attributes, as a stream's write_queue_size. */
%feature("fuv:python", "property") fuv_udp_get_send_queue_size;
%feature("fuv:python", "property") fuv_udp_get_send_queue_count;
/* Nim: udp.setMembership(group, iface, joinGroup), as nim-uv's names. */
%feature("fuv:nim:member", "joinGroup") FUV_JOIN_GROUP;
%feature("fuv:nim:member", "leaveGroup") FUV_LEAVE_GROUP;
