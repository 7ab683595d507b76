/* ---- issue 11's shapes test: added to a copy of flatuv.h ------------------ */
/*
 * One function of each shape a new capability brings, for the generators'
 * "Done when" test: the test inserts this text before the end of a copy of
 * flatuv.h, compiles shapes.c with it, regenerates every binding and calls
 * each function from each language. Nothing else is edited.
 */

/* Returns 1 if the timer repeats (its repeat interval is not 0), else 0. */
FUV_EXTERN int fuv_timer_is_repeating(const fuv_timer_t *timer);
/* References (on) or unreferences the handle, as fuv_ref() / fuv_unref().
 * FUV_EINVAL for NULL or a closed handle. */
FUV_EXTERN int fuv_handle_set_referenced(fuv_handle_t *handle, int on);
/* Writes the timer's time until due and its repeat interval, in ms, into
 * *due_in and *repeat. FUV_EINVAL for NULL. */
FUV_EXTERN int fuv_timer_get_times(const fuv_timer_t *timer, int *due_in,
                                   int *repeat);
/* Runs cb once after timeout_ms (fuv_timer_start() without a repeat). */
FUV_EXTERN int fuv_timer_start_once(fuv_timer_t *timer, uint64_t timeout_ms,
                                    fuv_timer_cb cb, void *arg);

/* A handle that does nothing: a new kind of handle, known only by pointer. */
typedef struct fuv_gauge_s fuv_gauge_t;
/* Creates a gauge handle on the loop; close it with fuv_close(). */
FUV_EXTERN int fuv_gauge_new(fuv_gauge_t **out, fuv_loop_t *loop);

