Mutant: the outbox row is deleted when a message is sent, not on its PUBACK
Needs: -
Tests: pytest tests/integration/test_outbox_only_copy.py
File: bridge/service_send.c

# In service_send(): remember the outbox id of every message handed to the
# transport, and count it as done (deleted with the next batch) at once.
/^int service_send(/,/^}/{
/^\tfor (; i < b->n; i++) {$/i\
\tint64_t *sent = calloc(b->n ? b->n : 1, sizeof(*sent));
/^\t\tstruct outmsg \*m = b->v\[i\];$/a\
\t\tif (sent)\
\t\t\tsent[i] = m->id;
/^\tpthread_mutex_lock(&s->mu);$/a\
\tfor (size_t j = 0; sent && j < i; j++) {\
\t\tint64_t *nd = sent[j] > 0 ? realloc(s->done_ids, (s->ndone + 1) * sizeof(*nd)) : NULL;\
\t\tif (nd) {\
\t\t\ts->done_ids = nd;\
\t\t\ts->done_ids[s->ndone++] = sent[j];\
\t\t\ts->capdone = s->ndone;\
\t\t}\
\t}\
\tfree(sent);
}
