broker serve --listen udp://x:1
