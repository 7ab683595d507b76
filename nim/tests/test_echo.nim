# Echo over real loopback sockets, IPv4 and IPv6: a server that writes
# back what it reads, a client that sends a payload large enough to need
# several reads and queued writes, and checks every byte that comes back.

import std/unittest
import flatuv
from flatuv/raw import nil

proc payloadOf(size: int): string =
  result = newString(size)
  for i in 0 ..< size:
    result[i] = char((i * 7 + i div 251) and 0xff)

proc echoRoundTrip(ip: string; payload: string): string =
  ## Runs one client against one echo server on ip; returns what the
  ## client read back before the server closed the connection.
  let loop = newLoop()
  let server = newTCP(loop)
  server.bindAddr(ip, 0)
  let port = server.getSockName().port
  var received = ""
  var serverSawEof = false

  server.listen(16, proc (s: Stream; err: ref FlatuvError) =
    doAssert err == nil
    let conn = s.accept()
    conn.readStart(proc (c: Stream; data: openArray[char];
                         err: ref FlatuvError) =
      if err == nil:
        c.write(data)
      else:
        doAssert err.errorName == "EOF"
        serverSawEof = true
        c.close()
        server.close()))

  let client = newTCP(loop)
  client.connect(ip, port, proc (t: TCP; err: ref FlatuvError) =
    doAssert err == nil
    doAssert t.getPeerName().port == port
    t.write(payload)
    t.readStart(proc (c: Stream; data: openArray[char];
                      err: ref FlatuvError) =
      doAssert err == nil
      received.add toString(data)
      if received.len >= payload.len:
        c.shutdown(proc (c: Stream; err: ref FlatuvError) =
          doAssert err == nil
          c.close())))

  loop.run()
  doAssert serverSawEof
  doAssert server.isClosed and client.isClosed
  loop.close()
  received

suite "echo":
  test "IPv4, 1 KiB":
    let payload = payloadOf(1024)
    check echoRoundTrip("127.0.0.1", payload) == payload

  test "IPv4, 4 MiB (partial writes and many reads)":
    let payload = payloadOf(4 shl 20)
    check echoRoundTrip("127.0.0.1", payload) == payload

  test "IPv6, 64 KiB":
    let payload = payloadOf(64 * 1024)
    check echoRoundTrip("::1", payload) == payload

  test "getSockName reports the family's loopback address":
    let loop = newLoop()
    let t4 = newTCP(loop)
    t4.bindAddr("127.0.0.1", 0)
    check t4.getSockName().ip == "127.0.0.1"
    check t4.getSockName().port > 0
    let t6 = newTCP(loop)
    t6.bindAddr("::1", 0)
    check t6.getSockName().ip == "::1"
    t4.close()
    t6.close()
    loop.run()
    loop.close()

  test "write callbacks run in order with status nil":
    let loop = newLoop()
    let server = newTCP(loop)
    server.bindAddr("127.0.0.1", 0)
    var order: seq[int]
    var drained = 0
    server.listen(4, proc (s: Stream; err: ref FlatuvError) =
      let conn = s.accept()
      conn.readStart(proc (c: Stream; data: openArray[char];
                           err: ref FlatuvError) =
        if err == nil:
          drained += data.len
        else:
          c.close()
          server.close()))
    let client = newTCP(loop)
    client.connect("127.0.0.1", server.getSockName().port,
                   proc (t: TCP; err: ref FlatuvError) =
      # A helper makes one closure per write: closures made in a loop body
      # would share the loop's variable.
      proc recordAs(n: int): WriteCallback =
        result = proc (s: Stream; err: ref FlatuvError) =
          check err == nil
          order.add n
      for i in 0 ..< 50:
        t.write(payloadOf(16 * 1024), recordAs(i))
      t.shutdown(proc (s: Stream; err: ref FlatuvError) = s.close()))
    loop.run()
    var expected: seq[int]
    for i in 0 ..< 50: expected.add i
    check order == expected
    check drained == 50 * 16 * 1024
    loop.close()

  test "the raw layer takes a handle's C object for unwrapped calls":
    let loop = newLoop()
    let t = newTCP(loop, familyInet)
    check raw.setTtl(t.cTCP, 42) == 0
    check raw.getTtl(t.cTCP) == 42
    check $raw.handleTypeName(raw.handleType(t.cHandle)) == "tcp"
    check raw.metricsLoopCount(loop.cLoop) == 0
    t.close()
    loop.run()
    check t.cTCP == nil
    check raw.getTtl(t.cTCP) == raw.FUV_EINVAL
    loop.close()
