/* The worker pool: one set of threads for every loop of the process, as
 * libuv's. Work waits on a queue of its kind; a thread takes CPU work
 * first, and slow I/O (DNS) only while fewer than half of the threads run
 * some, so that slow lookups never hold every thread. A finished item goes
 * to its loop's work_done queue and wakes the loop through its async fd;
 * the after-callback then runs from the loop's async phase.
 *
 * One mutex guards everything here and every loop's work_done queue: the
 * items are few and short-lived next to the work they carry, and a single
 * lock makes fork() handling simple. */
#include "internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define FUV__POOL_DEFAULT_SIZE 4
#define FUV__POOL_MAX_SIZE 1024

typedef enum {
  FUV__WORK_QUEUED,  /* on the pool's queue of its kind */
  FUV__WORK_RUNNING, /* taken by a thread, on the running queue */
  FUV__WORK_DONE     /* on its loop's work_done queue */
} fuv__work_state_t;

struct fuv__work_s {
  fuv__queue_t queue; /* whichever queue its state says */
  fuv_loop_t *loop;
  fuv__work_kind_t kind;
  fuv__work_state_t state;
  int status;
  fuv_work_cb work_cb;
  fuv_after_work_cb after_cb;
  void *arg;
  fuv_req_t *req; /* the caller's request object, or NULL */
};

static struct {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  pthread_t *threads;
  int nthreads; /* started and not yet joined */
  int size;     /* what the pool starts with; 0 until decided */
  /* Bumped by each stop: a thread runs while the generation it was
   * started in lasts, so that a pool started while the last one's threads
   * are being joined is not stopped with them. */
  unsigned generation;
  unsigned users; /* loops that have queued work and are not freed */
  unsigned epoch; /* users of this process's pool carry it (see fork) */
  unsigned slow_running;
  fuv__queue_t waiting[FUV__WORK_KINDS];
  fuv__queue_t running;
  int queues_ready;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0,
            0, 0, 1, 0, {{NULL, NULL}}, {NULL, NULL}, 0};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* FUV_THREADPOOL_SIZE, clamped to 1..1024, or the default when unset or not
 * a number (libuv reads it the same way, once). */
static int pool_size_from_env(void) {
  const char *s = getenv("FUV_THREADPOOL_SIZE");
  char *end;
  long n;

  if (s == NULL || *s == '\0')
    return FUV__POOL_DEFAULT_SIZE;
  n = strtol(s, &end, 10);
  if (end == s || *end != '\0')
    return FUV__POOL_DEFAULT_SIZE;
  if (n < 1)
    return 1;
  return n > FUV__POOL_MAX_SIZE ? FUV__POOL_MAX_SIZE : (int)n;
}

/* Called with the mutex held. */
static void pool_init_queues(void) {
  if (pool.queues_ready)
    return;
  for (int kind = 0; kind < FUV__WORK_KINDS; kind++)
    fuv__queue_init(&pool.waiting[kind]);
  fuv__queue_init(&pool.running);
  pool.queues_ready = 1;
}

/* Called with the mutex held: the size is decided once, when first asked
 * for, so that the size reported and the size started agree. */
static int pool_size(void) {
  if (pool.size == 0)
    pool.size = pool_size_from_env();
  return pool.size;
}

/* At most this many slow items run at once: half the threads, rounded up,
 * so a pool of one still runs them. */
static unsigned slow_cap(void) { return (unsigned)(pool.nthreads + 1) / 2; }

/* Called with the mutex held: the next item a thread may run, or NULL. */
static fuv__work_t *pool_next(void) {
  fuv__queue_t *q;
  if (!fuv__queue_empty(&pool.waiting[FUV__WORK_CPU]))
    q = pool.waiting[FUV__WORK_CPU].next;
  else if (!fuv__queue_empty(&pool.waiting[FUV__WORK_SLOW_IO]) &&
           pool.slow_running < slow_cap())
    q = pool.waiting[FUV__WORK_SLOW_IO].next;
  else
    return NULL;
  return FUV__CONTAINER_OF(q, fuv__work_t, queue);
}

/* Called with the mutex held: hands w to its loop and wakes it. The wake
 * is written under the mutex, so that the loop cannot run the callback,
 * find no work left and close the fd before the write (the loop takes the
 * mutex to collect finished work). A failed wake cannot be reported to
 * anyone; it can only fail for a loop whose fd is gone, which the loop's
 * refusal to be freed with work outstanding rules out. */
static void work_post(fuv__work_t *w, int status) {
  w->status = status;
  w->state = FUV__WORK_DONE;
  fuv__queue_insert_tail(&w->loop->work_done, &w->queue);
  (void)fuv__async_wake(w->loop);
}

static void *pool_thread(void *generation) {
  unsigned mine = (unsigned)(uintptr_t)generation;
  fuv__work_t *w = NULL;

  pthread_mutex_lock(&pool.mutex);
  for (;;) {
    while (mine == pool.generation && (w = pool_next()) == NULL)
      pthread_cond_wait(&pool.cond, &pool.mutex);
    if (mine != pool.generation)
      break;
    fuv__queue_remove(&w->queue);
    fuv__queue_insert_tail(&pool.running, &w->queue);
    w->state = FUV__WORK_RUNNING;
    if (w->kind == FUV__WORK_SLOW_IO)
      pool.slow_running++;
    pthread_mutex_unlock(&pool.mutex);

    w->work_cb(w->arg);

    pthread_mutex_lock(&pool.mutex);
    fuv__queue_remove(&w->queue);
    if (w->kind == FUV__WORK_SLOW_IO) {
      pool.slow_running--;
      /* A slow item that waited for the cap may now run. */
      pthread_cond_signal(&pool.cond);
    }
    work_post(w, 0);
  }
  pthread_mutex_unlock(&pool.mutex);
  return NULL;
}

/* fork(): the child has only the forking thread, so its pool has none.
 * The mutex is held across the fork (prepare), so that the child gets the
 * queues in a consistent state; in the child, every item the parent had
 * waiting or running is the parent's work, not the child's, and completes
 * on its loop with FUV_ECANCELED, so that a child still running a loop it
 * inherited is not kept alive for ever by work no thread will do. */
static void pool_atfork_prepare(void) { pthread_mutex_lock(&pool.mutex); }

static void pool_atfork_parent(void) { pthread_mutex_unlock(&pool.mutex); }

static void cancel_all(fuv__queue_t *q) {
  while (!fuv__queue_empty(q)) {
    fuv__work_t *w = FUV__CONTAINER_OF(q->next, fuv__work_t, queue);
    fuv__queue_remove(&w->queue);
    work_post(w, FUV_ECANCELED);
  }
}

static void pool_atfork_child(void) {
  if (pool.queues_ready) {
    for (int kind = 0; kind < FUV__WORK_KINDS; kind++)
      cancel_all(&pool.waiting[kind]);
    cancel_all(&pool.running);
  }
  free(pool.threads);
  pool.threads = NULL;
  pool.nthreads = 0;
  pool.size = 0; /* read FUV_THREADPOOL_SIZE again, as a fresh process */
  /* The loops inherited count as users no more: the child's pool stops
   * when the last loop that used it in the child is freed. */
  pool.users = 0;
  pool.epoch++;
  pool.slow_running = 0;
  /* The parent's threads may have been waiting on the condition variable;
   * none of them exists here. */
  pthread_cond_init(&pool.cond, NULL);
  pthread_mutex_unlock(&pool.mutex);
}

static void pool_register_atfork(void) {
  pthread_atfork(pool_atfork_prepare, pool_atfork_parent, pool_atfork_child);
}

/* Called with the mutex held: starts the threads if there are none. As
 * many as can be started make the pool; none is FUV_EAGAIN (or whatever
 * pthread_create says), and the next submission tries again. */
static int pool_start(void) {
  int size, r = 0;

  if (pool.nthreads > 0)
    return 0;
  size = pool_size();
  pool.threads = calloc((size_t)size, sizeof *pool.threads);
  if (pool.threads == NULL)
    return FUV_ENOMEM;
  while (pool.nthreads < size) {
    r = pthread_create(&pool.threads[pool.nthreads], NULL, pool_thread,
                       (void *)(uintptr_t)pool.generation);
    if (r != 0)
      break;
    pool.nthreads++;
  }
  if (pool.nthreads == 0) {
    free(pool.threads);
    pool.threads = NULL;
    return -r;
  }
  return 0;
}

/* Called with the mutex held, which it gives up while it joins the
 * threads (they need it to see that they are to stop). The caller is not
 * one of them (see on_pool_thread). The pool is empty from the moment the
 * generation changes, so a submission meanwhile starts a new one. */
static void pool_stop(void) {
  pthread_t *threads = pool.threads;
  int n = pool.nthreads;

  pool.generation++;
  pool.threads = NULL;
  pool.nthreads = 0;
  pthread_cond_broadcast(&pool.cond);
  pthread_mutex_unlock(&pool.mutex);
  for (int i = 0; i < n; i++)
    pthread_join(threads[i], NULL);
  free(threads);
  pthread_mutex_lock(&pool.mutex);
}

/* Called with the mutex held: 1 when the calling thread is a pool thread
 * (a work callback freeing some other loop), which must not join itself. */
static int on_pool_thread(void) {
  pthread_t self = pthread_self();
  for (int i = 0; i < pool.nthreads; i++)
    if (pthread_equal(pool.threads[i], self))
      return 1;
  return 0;
}

/* Called with the mutex held: makes the loop one of the pool's users and
 * the pool ready to run work. */
static int pool_join_loop(fuv_loop_t *loop) {
  int r;
  pthread_once(&atfork_once, pool_register_atfork);
  pool_init_queues();
  r = pool_start();
  if (r != 0)
    return r;
  if (loop->pool_epoch != pool.epoch) {
    loop->pool_epoch = pool.epoch;
    pool.users++;
  }
  return 0;
}

int fuv__work_submit(fuv_loop_t *loop, fuv__work_kind_t kind,
                     fuv_work_cb work_cb, fuv_after_work_cb after_cb,
                     void *arg, fuv_req_t **req) {
  fuv__work_t *w;
  int r;

  if (req != NULL)
    *req = NULL;
  if (loop == NULL || work_cb == NULL)
    return FUV_EINVAL;
  /* The fd the pool wakes the loop with, before any thread may need it. */
  r = fuv__async_ensure(loop);
  if (r != 0)
    return r;
  w = calloc(1, sizeof *w);
  if (w == NULL)
    return FUV_ENOMEM;
  if (req != NULL) {
    w->req = fuv__req_new(FUV_WORK, NULL);
    if (w->req == NULL) {
      free(w);
      return FUV_ENOMEM;
    }
    w->req->work = w;
  }
  w->loop = loop;
  w->kind = kind;
  w->work_cb = work_cb;
  w->after_cb = after_cb;
  w->arg = arg;
  w->state = FUV__WORK_QUEUED;

  pthread_mutex_lock(&pool.mutex);
  r = pool_join_loop(loop);
  if (r == 0) {
    fuv__queue_insert_tail(&pool.waiting[kind], &w->queue);
    pthread_cond_signal(&pool.cond);
  }
  pthread_mutex_unlock(&pool.mutex);
  if (r != 0) {
    if (w->req != NULL) {
      fuv__req_done(w->req);  /* the operation's reference */
      fuv_req_release(w->req); /* and the caller's, never handed out */
    }
    free(w);
    return r;
  }
  loop->active_work++;
  if (req != NULL)
    *req = w->req;
  return 0;
}

int fuv__work_cancel(fuv__work_t *w) {
  int r = FUV_EBUSY;
  pthread_mutex_lock(&pool.mutex);
  if (w->state == FUV__WORK_QUEUED) {
    fuv__queue_remove(&w->queue);
    work_post(w, FUV_ECANCELED);
    r = 0;
  }
  pthread_mutex_unlock(&pool.mutex);
  return r;
}

/* Each finished item's after-callback, in order. The batch is taken whole
 * under the mutex and run without it, so that a callback may queue more
 * work (which waits for the next pass, as an async handle's send does). */
void fuv__work_loop_done(fuv_loop_t *loop) {
  fuv__queue_t batch;

  /* Only the loop's thread changes active_work: a loop with none waiting
   * does not take the pool's lock for each async wake-up. */
  if (loop->active_work == 0)
    return;
  pthread_mutex_lock(&pool.mutex);
  fuv__queue_move(&loop->work_done, &batch);
  pthread_mutex_unlock(&pool.mutex);

  while (!fuv__queue_empty(&batch)) {
    fuv__work_t *w = FUV__CONTAINER_OF(batch.next, fuv__work_t, queue);
    fuv_after_work_cb after_cb = w->after_cb;
    void *arg = w->arg;
    int status = w->status;

    fuv__queue_remove(&w->queue);
    fuv__req_done(w->req);
    free(w);
    loop->active_work--;
    if (after_cb != NULL)
      after_cb(status, arg);
  }
}

void fuv__work_loop_free(fuv_loop_t *loop) {
  pthread_mutex_lock(&pool.mutex);
  if (loop->pool_epoch == pool.epoch) {
    loop->pool_epoch = 0;
    if (--pool.users == 0 && pool.nthreads > 0 && !on_pool_thread())
      pool_stop();
  }
  pthread_mutex_unlock(&pool.mutex);
}

int fuv_queue_work(fuv_loop_t *loop, fuv_work_cb work_cb,
                   fuv_after_work_cb after_cb, void *arg) {
  return fuv__work_submit(loop, FUV__WORK_CPU, work_cb, after_cb, arg, NULL);
}

int fuv_queue_work_req(fuv_loop_t *loop, fuv_work_cb work_cb,
                       fuv_after_work_cb after_cb, void *arg,
                       fuv_req_t **req) {
  return fuv__work_submit(loop, FUV__WORK_CPU, work_cb, after_cb, arg, req);
}

int fuv_threadpool_size(void) {
  int size;
  pthread_mutex_lock(&pool.mutex);
  size = pool.nthreads > 0 ? pool.nthreads : pool_size();
  pthread_mutex_unlock(&pool.mutex);
  return size;
}
