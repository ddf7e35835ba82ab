# resetd in a container: built from Debian slim in two stages, run as a
# user of its own, the SQLite database and its key file on a volume.
#
#	docker build -t resetd .
#	docker run -d --name resetd -p 8080:8080 -v resetd:/var/lib/resetd \
#	    -e RESETD_PUBLIC_URL=https://reset.example.com resetd
#	docker exec resetd resetd project create --name App ...
#
# Configure it with RESETD_* variables (resetd.conf(5)) or a file mounted
# read-only and named by RESETD_CONFIG.  docs/operations.md tells more.

# The build: the same packages and the same make as on a workstation.
FROM debian:bookworm-slim AS build
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN scripts/deps.sh build && rm -rf /var/lib/apt/lists/*
COPY Makefile ./
COPY tools tools
COPY templates templates
COPY src src
COPY man man
COPY etc etc
COPY contrib contrib
RUN make -j"$(nproc)" build/resetd && \
    make install PREFIX=/usr DESTDIR=/out && \
    /out/usr/sbin/resetd --version

# The image: the libraries resetd links and nothing to build with.
FROM debian:bookworm-slim
RUN apt-get update && \
    apt-get install -y --no-install-recommends \
	ca-certificates \
	libcrypt1 \
	libcurl4 \
	libjansson4 \
	libmicrohttpd12 \
	libpq5 \
	libsodium23 \
	libsqlite3-0 \
	libssl3 \
	libutf8proc2 \
	libzxcvbn0 && \
    rm -rf /var/lib/apt/lists/* && \
    groupadd --system --gid 10001 resetd && \
    useradd --system --uid 10001 --gid resetd --no-create-home \
	--home-dir /var/lib/resetd --shell /usr/sbin/nologin resetd && \
    install -d -o resetd -g resetd -m 0700 /var/lib/resetd
COPY --from=build /out/usr/sbin/resetd /usr/sbin/resetd
COPY --from=build /out/usr/share/man /usr/share/man
COPY --from=build /out/usr/share/doc/resetd /usr/share/doc/resetd
# Listen on every address of the container; the database, its key file and
# a development Maildir live on the volume.  Set RESETD_PUBLIC_URL to the
# address users reach: it is the base of every emailed link.
ENV RESETD_LISTEN=0.0.0.0:8080 \
    RESETD_DATABASE=sqlite:/var/lib/resetd/resetd.db \
    RESETD_MAIL=maildir:/var/lib/resetd/mail
VOLUME ["/var/lib/resetd"]
WORKDIR /var/lib/resetd
USER 10001:10001
EXPOSE 8080
# resetd finishes requests in flight within 10 seconds of SIGTERM; give
# docker stop -t 15 or more.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/sbin/resetd"]
CMD ["serve"]
