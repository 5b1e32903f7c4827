"""What auditors read: one case's whole trail (``trail``) and the words of its events
(``words``), in the reads layer beside the cases' selectors."""
