"""The customer-service desk's own records (issue 16): the hotline's calls that are not
cases (值班接待纪录), the end-of-shift check of open work orders and the hand-over record
(交接班记录)."""
