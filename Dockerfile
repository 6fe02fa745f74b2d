# syntax=docker/dockerfile:1
# Build: docker build -t hotline .
# Run:   docker run -p 8080:8080 -p 5060:5060/udp -p 5060:5060/tcp \
#          -e HOTLINE_REDIS_URL=redis://redis:6379/0 hotline
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/hotline ./cmd/hotline

FROM debian:bookworm-slim
# espeak-ng: the Polish TTS voice (speech.tts: espeak); tzdata for Europe/Warsaw
# (the binary also embeds the zone database as a fallback).
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin hotline
COPY --from=build /out/hotline /usr/local/bin/hotline
USER 10001:10001
EXPOSE 8080 5060/udp 5060/tcp
ENTRYPOINT ["/usr/local/bin/hotline"]
CMD ["serve"]
