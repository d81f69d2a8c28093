# Stand-in for the official python:3.11-slim-bookworm image, built from Debian packages
# (scripts/offline-images.sh) where no container registry is reachable.
FROM sandbox-offline/rootfs-python:bookworm
ENV LANG=C.UTF-8
CMD ["python3"]
