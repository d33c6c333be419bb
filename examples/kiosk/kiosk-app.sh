#!/bin/sh
# Stand-in for the kiosk's display application.
while :; do echo "kiosk up $(date -u +%FT%TZ)"; sleep 60; done
