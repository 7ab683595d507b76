/* The intrusive doubly linked list used for the loop's handle queues. */
#include "internal.h"

void fuv__queue_init(fuv__queue_t *q) {
  q->next = q;
  q->prev = q;
}

int fuv__queue_empty(const fuv__queue_t *q) { return q->next == q; }

void fuv__queue_insert_tail(fuv__queue_t *head, fuv__queue_t *q) {
  q->next = head;
  q->prev = head->prev;
  head->prev->next = q;
  head->prev = q;
}

void fuv__queue_remove(fuv__queue_t *q) {
  q->prev->next = q->next;
  q->next->prev = q->prev;
  fuv__queue_init(q);
}

void fuv__queue_move(fuv__queue_t *from, fuv__queue_t *to) {
  if (fuv__queue_empty(from)) {
    fuv__queue_init(to);
    return;
  }
  to->next = from->next;
  to->prev = from->prev;
  to->next->prev = to;
  to->prev->next = to;
  fuv__queue_init(from);
}
