## Built against the package `nimble install` put in a private nimble
## directory, itself generated against an installed flatuv, by
## tests/install/run.sh: the Nim twin of main.c. A TCP server and a client
## on loopback; the client sends a request, the server prints it and
## answers, the client prints the answer. run.sh compares the output with
## main.c's, so a program that builds but does not work fails the test.

import flatuv
from flatuv/raw import nil

const request = "ping from a program built against the installed flatuv"
const reply = "pong"

proc main() =
  echo "flatuv ", versionString()
  let loop = newLoop()
  let server = newTCP(loop)
  var serverSide: TCP
  var received, answer: string

  server.bindAddr("127.0.0.1", 0)
  server.listen(8, proc (s: Stream; err: ref FlatuvError) =
    if err != nil: raise err
    serverSide = s.accept()
    server.close() # one connection is all this test needs
    serverSide.readStart(proc (c: Stream; data: openArray[char];
                               err: ref FlatuvError) =
      if err != nil: raise err
      received.add data.toString
      if received.len >= request.len:
        echo "server received: ", received
        c.write(reply)
        c.readStop()))

  let client = newTCP(loop)
  client.connect("127.0.0.1", server.getSockName().port,
                 proc (t: TCP; err: ref FlatuvError) =
    if err != nil: raise err
    t.readStart(proc (c: Stream; data: openArray[char]; err: ref FlatuvError) =
      if err != nil: raise err
      answer.add data.toString
      if answer.len >= reply.len:
        echo "client received: ", answer
        c.close()
        serverSide.close())
    t.write(request))

  # A watchdog, so that a broken exchange fails instead of hanging.
  let watchdog = newTimer(loop)
  watchdog.start(10_000, 0, proc (t: Timer) =
    raise newFlatuvError(int(raw.FUV_ETIMEDOUT), "the exchange"))
  watchdog.unrefHandle()
  loop.run()
  watchdog.close()
  loop.run()
  loop.close()

main()
