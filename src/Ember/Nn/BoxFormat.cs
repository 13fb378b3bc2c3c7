namespace Ember.Nn;

/// <summary>How a box's four numbers are laid out (torchvision.ops.box_convert's 'xyxy' | 'xywh' | 'cxcywh').</summary>
public enum BoxFormat
{
    /// <summary>Corners: x1, y1, x2, y2.</summary>
    XYXY,
    /// <summary>Top-left corner and size: x1, y1, w, h.</summary>
    XYWH,
    /// <summary>Centre and size: cx, cy, w, h (YOLO's "xywh").</summary>
    CXCYWH,
}
