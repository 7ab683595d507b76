## The echo server on Nim's standard library (asyncnet / asyncdispatch),
## the baseline for flatuv's Nim binding. Written the fast way asyncnet
## allows: unbuffered sockets, one buffer per connection, recvInto and
## send of exactly what was read.
##
##   echo_asyncnet PORT
##
## Listens on 127.0.0.1, sets TCP_NODELAY on each connection, prints
## "listening PORT" when ready. SIGTERM ends it.

import std/[asyncdispatch, asyncnet, nativesockets, net, os, strutils]

proc serve(client: AsyncSocket) {.async.} =
  var buf = newString(64 * 1024)
  while true:
    let n = await client.recvInto(addr buf[0], buf.len)
    if n <= 0:
      break
    await client.send(addr buf[0], n)
  client.close()

proc main(port: int) {.async.} =
  let server = newAsyncSocket(buffered = false)
  server.setSockOpt(OptReuseAddr, true)
  server.bindAddr(Port(port), "127.0.0.1")
  server.listen(511)
  echo "listening ", port
  flushFile(stdout)
  while true:
    let client = await server.accept()
    client.setSockOpt(OptNoDelay, true, level = IPPROTO_TCP.cint)
    asyncCheck serve(client)

waitFor main(parseInt(paramStr(1)))
