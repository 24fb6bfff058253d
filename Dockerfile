# syntax=docker/dockerfile:1
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/briefing ./cmd/briefing

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/briefing /usr/local/bin/briefing
WORKDIR /app
# /app/config.yaml is read by default; the store lives under /app/data.
VOLUME ["/app/data"]
EXPOSE 9090
USER nonroot:nonroot
ENTRYPOINT ["briefing"]
CMD ["run"]
