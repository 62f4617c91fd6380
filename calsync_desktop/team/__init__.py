"""The team Sales Calendar on PostgreSQL (SPEC §8): one database that every
member's app connects to, where PostgreSQL itself keeps colleagues from reading
what is private and from changing what is not theirs.

``server``: reaching it (address and TLS rules, errors in plain words);
``security``: the rights and row-level policies; ``admin``: setting a team up
and managing its members; ``member``: connecting this computer, and moving its
own Sales Calendar in. Qt-free: the command line and the window both call these.
"""
