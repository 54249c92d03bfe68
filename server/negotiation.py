from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class JSONFallbackNegotiation(DefaultContentNegotiation):
    """The API speaks JSON. A client that asks only for something else (a browser's
    ``Accept: text/html``) gets JSON all the same, not a 406: RFC 9110 section 12.5.1 lets a
    server answer with its default when nothing acceptable is available, and a JSON body
    says more to the person reading it than an empty refusal."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type
