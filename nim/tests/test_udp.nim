# UDP (issue 13) over real loopback sockets: echo with the sender's
# address, empty datagrams, connected UDP, errors naming the call, the
# synchronous calls, options, trySend, a receiving handle nobody holds, send
# callbacks and closing with sends queued.

import std/[sequtils, strutils, unittest]
import flatuv

template expectFlatuv(expectedName: string; body: untyped): ref FlatuvError =
  var raised: ref FlatuvError = nil
  try:
    body
  except FlatuvError as e:
    raised = e
  check raised != nil
  if raised != nil:
    check raised.errorName == expectedName
  raised

proc bound(loop: Loop; ip = "127.0.0.1"): (UDP, tuple[ip: string, port: int]) =
  let u = newUDP(loop)
  u.bindAddr(ip, 0)
  (u, u.getSockName())

suite "udp":
  test "echo ping-pong with the sender's address":
    let loop = newLoop()
    let (server, saddr) = bound(loop)
    let (client, caddr) = bound(loop)
    var got: seq[string]
    var sent = 0
    server.recvStart(proc (u: UDP; address: tuple[ip: string, port: int];
                           flags: int; data: openArray[char];
                           err: ref FlatuvError) =
      doAssert err == nil and flags == 0
      doAssert address == caddr
      u.send(toString(data).toUpperAscii, address.ip, address.port,
             proc (u: UDP; err: ref FlatuvError) =
               doAssert err == nil
               inc sent))
    client.recvStart(proc (u: UDP; address: tuple[ip: string, port: int];
                           flags: int; data: openArray[char];
                           err: ref FlatuvError) =
      doAssert err == nil and address == saddr
      got.add toString(data)
      if got.len == 3:
        server.close()
        client.close())
    for word in ["ping", "pong", "bye"]:
      client.send(word, saddr.ip, saddr.port)
    loop.run()
    check got == @["PING", "PONG", "BYE"]
    check sent == 3
    loop.close()

  test "an empty datagram reaches the callback as empty data":
    let loop = newLoop()
    let (server, saddr) = bound(loop)
    let (client, caddr) = bound(loop)
    var calls = 0
    var sender: tuple[ip: string, port: int]
    server.recvStart(proc (u: UDP; address: tuple[ip: string, port: int];
                           flags: int; data: openArray[char];
                           err: ref FlatuvError) =
      doAssert err == nil and data.len == 0
      inc calls
      sender = address
      server.close()
      client.close())
    client.send("", saddr.ip, saddr.port)
    loop.run()
    check calls == 1
    check sender == caddr
    loop.close()

  test "connected UDP: no address, EISCONN with one, disconnect":
    let loop = newLoop()
    let (server, saddr) = bound(loop)
    let client = newUDP(loop)
    client.connect(saddr.ip, saddr.port)
    check client.getPeerName() == saddr
    client.send("one")
    check client.trySend("two") == 3
    discard expectFlatuv("EISCONN"):
      client.send("x", saddr.ip, saddr.port)
    check server.recvSync(100, 1000) == (data: "one", address: client.getSockName())
    check server.recvSync(100, 1000).data == "two"
    client.connect()
    discard expectFlatuv("ENOTCONN"):
      discard client.getPeerName()
    discard expectFlatuv("EDESTADDRREQ"):
      client.send("nowhere")
    server.close()
    client.close()
    loop.run()
    loop.close()

  test "bind errors name the call and the address":
    let loop = newLoop()
    let u = newUDP(loop)
    let e = expectFlatuv("EINVAL"):
      u.bindAddr("999.1.1.1", 0)
    if e != nil:
      check "bindAddr(\"999.1.1.1\", 0)" in e.msg
    discard expectFlatuv("EINVAL"):
      u.bindAddr("127.0.0.1", 70000)
    u.bindAddr("127.0.0.1", 0)
    let other = newUDP(loop)
    discard expectFlatuv("EADDRINUSE"):
      other.bindAddr("127.0.0.1", u.getSockName().port)
    u.close()
    other.close()
    loop.run()
    loop.close()

  test "recvSync times out; sendSync and recvSync":
    let loop = newLoop()
    let (server, saddr) = bound(loop)
    let (client, caddr) = bound(loop)
    discard expectFlatuv("ETIMEDOUT"):
      discard server.recvSync(timeoutMs = 50)
    client.sendSync("hello", saddr.ip, saddr.port, 1000)
    let (data, sender) = server.recvSync(timeoutMs = 1000)
    check data == "hello"
    check sender == caddr
    server.close()
    client.close()
    loop.run()
    loop.close()

  test "options and multicast calls":
    let loop = newLoop()
    let (u, _) = bound(loop)
    u.broadcast = true
    u.ttl = 10
    check u.ttl == 10
    u.multicastTtl = 3
    u.multicastLoop = true
    u.multicastInterface = "127.0.0.1"
    discard expectFlatuv("EINVAL"):
      u.setMembership("127.0.0.1", "", joinGroup)
    try:
      u.setMembership("239.255.0.1", "127.0.0.1", joinGroup)
      u.setMembership("239.255.0.1", "127.0.0.1", leaveGroup)
    except FlatuvError as e:
      check e.errorName in ["ENODEV", "EADDRNOTAVAIL", "ENOBUFS"]
    u.tos = 0x20
    check u.tos == 0x20
    check not u.usingRecvmmsg()
    check u.sendQueueSize == 0 and u.sendQueueCount == 0
    check u.trySendMany(@["1", "22"], "127.0.0.1", u.getSockName().port) == 2
    u.close()
    loop.run()
    loop.close()

  test "a receiving handle nobody holds stays alive until closed":
    let loop = newLoop()
    var port = 0
    var got = ""
    block:
      let (server, saddr) = bound(loop)
      port = saddr.port
      server.recvStart(proc (u: UDP; address: tuple[ip: string, port: int];
                             flags: int; data: openArray[char];
                             err: ref FlatuvError) =
        got = toString(data)
        u.close())
    GC_fullCollect()
    block:
      let c = newUDP(loop)
      c.send("still there", "127.0.0.1", port)
      c.close()
    GC_fullCollect()
    loop.run()
    check got == "still there"
    loop.close()

  test "send callbacks; ECANCELED for sends queued at close":
    # Loopback takes every datagram at once: sends queue only behind one
    # already queued; every callback runs, nil (sent) or ECANCELED.
    let loop = newLoop()
    let (server, saddr) = bound(loop)
    let client = newUDP(loop, familyInet)
    client.sendBufferSize = 4096
    var results: seq[string]
    let payload = repeat('x', 1000)
    for i in 0 ..< 200:
      client.send(payload, saddr.ip, saddr.port,
                  proc (u: UDP; err: ref FlatuvError) =
                    results.add(if err == nil: "ok" else: err.errorName))
    let queued = client.sendQueueCount
    client.close()
    server.close()
    loop.run()
    check results.len == 200
    check results.count("ECANCELED") == queued
    check results.count("ok") == 200 - queued
    loop.close()
