Mutant: reply_to and the v5 response topic are published to without validation
Needs: link
Tests: ctest ^test_reply_topic
Tests: pytest tests/integration/test_reply_topic.py
File: bridge/reply_topic.c

# the link branch's reply_topic_check (issue 10 item 2) takes every topic
/^int reply_topic_check(/,/^{$/s/^{$/{\
\tif (topic \&\& len) return 0;/
