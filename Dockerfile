# syntax=docker/dockerfile:1
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/briefing ./cmd/briefing \
    && mkdir -p /out/data /out/config

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/briefing /usr/local/bin/briefing
# Volumes must exist with the right owner, or the non-root user cannot write the store.
COPY --from=build --chown=nonroot:nonroot /out/data /data
COPY --from=build --chown=nonroot:nonroot /out/config /config
ENV BRIEFING_CONFIG=/config/config.yaml
WORKDIR /data
VOLUME ["/config", "/data"]
# server.listen (health, metrics) and teams.listen (Bot Framework activities).
EXPOSE 9090 3978
USER nonroot:nonroot
ENTRYPOINT ["briefing"]
CMD ["run"]
