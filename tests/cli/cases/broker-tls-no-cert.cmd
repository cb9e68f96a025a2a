broker serve --listen tls://127.0.0.1:0 --control /tmp/tactus-golden-ctl/b.sock
