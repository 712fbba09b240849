FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings to load; this key exists only during the build. var/media is
# made here so that the `media` volume mounted on it (docker-compose.yml) belongs to quill.
RUN SECRET_KEY=build-only-collectstatic-key python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media \
    && useradd --create-home --uid 1000 quill && chown -R quill /app/var
USER quill

EXPOSE 8000
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "blog_project.wsgi"]
