# syntax=docker/dockerfile:1
#
# corsbridge: a static binary on distroless, as a non-root user.
#
#   docker build --build-arg VERSION=v1.2.3 -t corsbridge .
#   docker run --rm -p 8080:8080 corsbridge
#
# The binary is built by `make build`, the same target developers and the
# image test (cmd/corsbridge/image_test.go) run: CGO_ENABLED=0, -trimpath,
# the version linked in.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN make build VERSION="${VERSION}" BIN=/out/corsbridge

# distroless/static: CA certificates, /etc/passwd with a nonroot user
# (65532), tzdata; no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/corsbridge /corsbridge
USER nonroot:nonroot
EXPOSE 8080
# No shell or curl in the image: the binary probes its own /healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=5s --retries=3 CMD ["/corsbridge", "healthcheck"]
# SIGTERM (Docker's default) starts a graceful drain of
# CORSBRIDGE_SHUTDOWN_GRACE (20s): give `docker stop` a longer --time.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/corsbridge"]
