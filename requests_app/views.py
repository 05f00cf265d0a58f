"""Artist-facing pages. (Being written: placeholders so URL names resolve.)"""

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


home = signup = verify_email = verify_email_resend = request_list = request_new = _todo
request_detail = request_upload = request_matches = request_submit = _todo
request_withdraw = request_status = work_image = _todo
