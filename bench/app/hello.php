<?php
// The PHP side of /hello: the same 13 bytes as benchapp.py's /hello.
header('Content-Type: text/plain');
echo "Hello, world\n";
