"""The staff's pages, one module per page group: inbox, tasks, start a case, cases,
notifications.

Like the API, each view reads through selectors and writes through services, so the two
answer the same permissions and errors; a service's error becomes a message on the page
(field errors beside their fields), never a 500. What a user may not see is a 404.
"""
