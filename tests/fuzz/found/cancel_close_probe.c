/* A write cancelled (fuv_cancel == 0) on a stream whose earlier write went out at once:
 * does its callback run, and does the loop end after closing? */
#include <stdio.h>
#include <stdlib.h>
#include "flatuv.h"
static char big[1 << 20];
static int cbs, closes;
static void on_write(fuv_stream_t *s, int st, void *a) { (void)s; printf("write cb %s status %d\n", (char *)a, st); cbs++; }
static void on_close(fuv_handle_t *h, void *a) { (void)h; (void)a; closes++; }
static void on_read(fuv_stream_t *s, ssize_t n, const char *b, void *a) { (void)s; (void)b; (void)a; (void)n; }
int main(void) {
  fuv_loop_t *loop; fuv_tcp_t *t0, *t1; int fd0, fd1; fuv_req_t *req;
  fuv_loop_new(&loop);
  fuv_socketpair(FUV_SOCK_STREAM, 0, &fd0, &fd1, 0, 0);
  fuv_tcp_new(&t0, loop); fuv_tcp_open(t0, fd0);
  fuv_tcp_new(&t1, loop); fuv_tcp_open(t1, fd1);
  fuv_read_start((fuv_stream_t *)t0, on_read, NULL);
  fuv_read_start((fuv_stream_t *)t1, on_read, NULL);
  printf("write %d\n", fuv_write((fuv_stream_t *)t0, big, sizeof big, on_write, "A"));
  printf("write_req %d\n", fuv_write_req((fuv_stream_t *)t0, "world", 5, on_write, "B", &req));
  fuv_req_t *req2;
  printf("write_req %d\n", fuv_write_req((fuv_stream_t *)t0, "again", 5, on_write, "C", &req2));
  printf("cancel %d\n", fuv_cancel(req));
  printf("cancel %d\n", fuv_cancel(req2));
  for (int k = 0; k < 3; k++) fuv_run(loop, FUV_RUN_NOWAIT);
  fuv_close((fuv_handle_t *)t0, on_close, NULL);
  fuv_close((fuv_handle_t *)t1, on_close, NULL);
  int i;
  for (i = 0; i < 1000 && (closes < 2 || fuv_loop_alive(loop)); i++) fuv_run(loop, FUV_RUN_NOWAIT);
  int alive = fuv_loop_alive(loop);
  printf("after %d iterations: %d write callbacks, %d closes, alive %d\n", i, cbs, closes, alive);
  printf("loop_free %d\n", fuv_loop_free(loop));
  fuv_req_release(req);
  fuv_req_release(req2);
  return 0;
}
